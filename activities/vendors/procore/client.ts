/**
 * `@procore/js-sdk` pointed at one Procore company: the SDK's client with a bare OAuth authorizer
 * (its `refresher` would refresh silently; single-use refresh tokens must be rotated by us, under
 * a lock, and stored before use), `apiHostname` the API host and `Procore-Company-Id` on every
 * call. Procore publishes its limits in `X-Rate-Limit-Limit/Remaining/Reset` (hourly window, or the
 * 10-second spike window once it is the tighter one): each answer updates a gate per integration,
 * and a call the vendor has already said it would refuse is not made at all — it fails with the
 * same typed RateLimited a 429 gives, which workflows wait out on a durable timer.
 */
import { client as sdkClient, oauth } from '@procore/js-sdk';
import { mapProcoreError, rateLimited, resetInMs } from './errors';

export const PROCORE_API_VERSION = 'v1.0';

export interface ProcoreAnswer<T> {
  body: T;
  headers: { get(name: string): string | null };
}

export type Query = Record<string, string | number | Record<string, string>>;

export interface ProcoreApi {
  get<T>(base: string, params: Record<string, string>, qs?: Query): Promise<ProcoreAnswer<T>>;
  post<T>(base: string, params: Record<string, string>, payload: unknown): Promise<ProcoreAnswer<T>>;
  patch<T>(base: string, params: Record<string, string>, payload: unknown): Promise<ProcoreAnswer<T>>;
  delete(base: string, params: Record<string, string>, qs?: Query): Promise<void>;
}

/** What Procore last said about an integration's budget. */
interface Window {
  remaining: number;
  resetAtMs: number;
}

export interface RateGate {
  /** Throws RateLimited while the vendor's window is spent. */
  check(key: string): void;
  record(key: string, headers: ProcoreAnswer<unknown>['headers']): void;
}

export function createRateGate(now: () => number): RateGate {
  const windows = new Map<string, Window>();
  return {
    check(key) {
      const window = windows.get(key);
      if (!window || window.remaining > 0) return;
      if (window.resetAtMs <= now()) return void windows.delete(key);
      throw rateLimited(window.resetAtMs - now(), 'X-Rate-Limit-Remaining: 0', 'budget');
    },
    record(key, headers) {
      const remaining = Number(headers.get('x-rate-limit-remaining'));
      const resetMs = resetInMs(headers.get('x-rate-limit-reset'), now());
      if (headers.get('x-rate-limit-remaining') === null || !Number.isFinite(remaining) || resetMs === undefined)
        return;
      windows.set(key, { remaining, resetAtMs: now() + resetMs });
    },
  };
}

/** Bodies as JSON when there is one; `{}` for an empty (204) or unreadable one, never a parse failure. */
async function lenientJson(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return text ? (JSON.parse(text) as unknown) : {};
  } catch {
    return {};
  }
}

export function createProcoreApi(input: {
  apiBaseUrl: string;
  accessToken: string;
  companyId: string;
  gate: RateGate;
  /** The gate's key: one integration's user and app. */
  gateKey: string;
  now: () => number;
}): ProcoreApi {
  const api = sdkClient(
    oauth(input.accessToken),
    {},
    { apiHostname: input.apiBaseUrl, defaultVersion: PROCORE_API_VERSION, defaultCompanyId: input.companyId },
  );
  const reqConfig = { formatter: lenientJson, companyId: input.companyId };

  async function send<T>(request: () => Promise<{ body: T; response: Response }>): Promise<ProcoreAnswer<T>> {
    input.gate.check(input.gateKey);
    try {
      const { body, response } = await request();
      input.gate.record(input.gateKey, response.headers);
      return { body, headers: response.headers };
    } catch (error) {
      const headers = (error as { response?: Response } | null)?.response?.headers;
      if (headers) input.gate.record(input.gateKey, headers);
      throw mapProcoreError(error, input.now());
    }
  }

  return {
    get: (base, params, qs) => send(() => api.get({ base, params, qs }, reqConfig)),
    post: (base, params, payload) => send(() => api.post({ base, params }, payload, reqConfig)),
    patch: (base, params, payload) => send(() => api.patch({ base, params }, payload, reqConfig)),
    delete: async (base, params, qs) => void (await send(() => api.delete({ base, params, qs }, undefined, reqConfig))),
  };
}

/** The `rel="next"` target of a `Link` header, if any. */
export function nextLink(link: string | null): string | undefined {
  for (const part of (link ?? '').split(',')) {
    const match = /<([^>]+)>\s*;\s*rel="?next"?/.exec(part);
    if (match) return match[1];
  }
  return undefined;
}
