/**
 * The typed JSON REST client of every vendor endpoint no npm SDK covers (Oracle ERP Cloud and
 * Primavera P6 entirely, Autodesk's Webhooks, RFIs and Tandem): Node's `fetch`, one `Authorization`
 * header (a service account's basic auth, an OAuth bearer token), typed answers per resource. What
 * differs per vendor is options: the time-out, redirects, extra headers, how an empty or non-JSON
 * answer reads. A non-2xx answer is a `RestError` carrying the status and the headers a mapper needs
 * (Retry-After), never the body: vendors echo input values in their errors. `mapRestError` is the
 * shared mapping to typed `VendorError`s for `createVendorCall`; a vendor's own mapping (which
 * status means which missing role) stays in its folder.
 */
import { VendorError, VendorFailureType, classifyHttpStatus } from '../errors';

export type QueryValue = string | number | boolean | undefined;

export interface RestRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path below the client's base URL, starting with `/`. */
  path: string;
  query?: Record<string, QueryValue>;
  body?: unknown;
}

/** A vendor answer outside 2xx: status and headers only. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly statusText: string,
    readonly headers: Headers,
  ) {
    super(`HTTP ${status}`);
    this.name = 'RestError';
  }
}

type Json = Record<string, unknown>;

export interface RestClient {
  request<T = Json>(request: RestRequest): Promise<T>;
  get<T = Json>(path: string, query?: Record<string, QueryValue>): Promise<T>;
  /** A POST answered with the new resource's `Location` (APS Webhooks' `201`): that location's path. */
  create(path: string, body: unknown): Promise<string>;
}

export interface RestClientOptions {
  /** The host and any path prefix (`https://acme.fa.oraclecloud.com`), no trailing slash needed. */
  baseUrl: URL | string;
  /** The whole header value: `basicAuthorization(…)` or `Bearer <token>`. */
  authorization: string;
  /** Bounds one request: far inside the calling activity's start-to-close timeout. Default 30 s. */
  timeoutMs?: number;
  /** Extra headers every request carries (a REST framework version). */
  headers?: Record<string, string>;
  /**
   * `error` (default): a redirect fails the call, so a customer's host on the allow-list cannot
   * send us elsewhere; `follow`: a vendor's fixed API host (APS).
   */
  redirect?: 'error' | 'follow';
  /** An empty or non-JSON 2xx answer reads as `{}` (APS) instead of `undefined` / a `SyntaxError`. */
  lenientAnswers?: boolean;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

export function createRestClient(options: RestClientOptions): RestClient {
  const base = options.baseUrl.toString().replace(/\/+$/, '');
  async function send({ method, path, query, body }: RestRequest): Promise<Response> {
    const url = new URL(base + path);
    for (const [name, value] of Object.entries(query ?? {}))
      if (value !== undefined) url.searchParams.set(name, String(value));
    const response = await fetch(url, {
      method,
      redirect: options.redirect ?? 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? DEFAULT_TIMEOUT_MS),
      headers: {
        accept: 'application/json',
        authorization: options.authorization,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...options.headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!response.ok) {
      await response.arrayBuffer().catch(() => undefined);
      throw new RestError(response.status, response.statusText, response.headers);
    }
    return response;
  }
  function parse<T>(text: string): T {
    if (!options.lenientAnswers) return (text === '' ? undefined : JSON.parse(text)) as T;
    try {
      return (text ? JSON.parse(text) : {}) as T;
    } catch {
      return {} as T;
    }
  }
  async function request<T>(call: RestRequest): Promise<T> {
    return parse<T>(await (await send(call)).text());
  }
  return {
    request,
    get: (path, query) => request({ method: 'GET', path, query }),
    async create(path, body) {
      const response = await send({ method: 'POST', path, body });
      await response.arrayBuffer();
      const location = response.headers.get('location');
      if (!location) throw new RestError(502, 'no Location', response.headers);
      return new URL(location, base).pathname;
    },
  };
}

/**
 * A failed REST call as the typed failure every vendor shares: no answer (network, timeout) is
 * VendorUnavailable; 429 waits Retry-After (else the default wait); other statuses by class.
 */
export function mapRestError(vendor: string, error: unknown, now = Date.now()): unknown {
  if (error instanceof RestError)
    return classifyHttpStatus(
      vendor,
      error.status,
      error.statusText || 'request failed',
      error.headers.get('retry-after'),
      now,
    );
  if (error instanceof TypeError || (error instanceof DOMException && error.name === 'TimeoutError'))
    return new VendorError(VendorFailureType.VendorUnavailable, vendor, 'no response (network or timeout)');
  if (error instanceof SyntaxError)
    return new VendorError(VendorFailureType.VendorUnavailable, vendor, 'answer is not JSON');
  return error;
}
