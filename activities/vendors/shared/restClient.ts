/**
 * The typed JSON REST client of vendors that publish no npm SDK (Oracle ERP Cloud, Primavera P6):
 * Node's `fetch` against the customer's host, one `Authorization` header (service-account basic
 * auth), typed answers per resource. A non-2xx answer is a `RestError` carrying the status and the
 * headers a mapper needs (Retry-After), never the body: vendors echo input values in their errors.
 * `mapRestError` is the shared mapping to typed `VendorError`s for `createVendorCall`.
 */
import {
  DEFAULT_RATE_LIMIT_WAIT_MS,
  VendorError,
  VendorFailureType,
  classifyHttpStatus,
  parseRetryAfter,
} from '../errors';

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

export interface RestClient {
  request<T>(request: RestRequest): Promise<T>;
  get<T>(path: string, query?: Record<string, QueryValue>): Promise<T>;
}

export interface RestClientOptions {
  /** The customer's host and any path prefix (`https://acme.fa.oraclecloud.com`), no trailing slash needed. */
  baseUrl: URL;
  authorization: string;
  /** Bounds one request: far inside the sync activity's start-to-close timeout. */
  timeoutMs?: number;
  /** Extra headers every request carries (a REST framework version). */
  headers?: Record<string, string>;
}

const DEFAULT_TIMEOUT_MS = 30_000;

export function basicAuthorization(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`, 'utf8').toString('base64')}`;
}

export function createRestClient(options: RestClientOptions): RestClient {
  const base = options.baseUrl.toString().replace(/\/+$/, '');
  async function request<T>({ method, path, query, body }: RestRequest): Promise<T> {
    const url = new URL(base + path);
    for (const [name, value] of Object.entries(query ?? {}))
      if (value !== undefined) url.searchParams.set(name, String(value));
    const response = await fetch(url, {
      method,
      redirect: 'error',
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
    const text = await response.text();
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
  return { request, get: (path, query) => request({ method: 'GET', path, query }) };
}

/**
 * A failed REST call as the typed failure every vendor shares: no answer (network, timeout) is
 * VendorUnavailable; 429 waits Retry-After (else the default wait); other statuses by class.
 */
export function mapRestError(vendor: string, error: unknown, now = Date.now()): unknown {
  if (error instanceof RestError) {
    if (error.status === 429)
      return new VendorError(VendorFailureType.RateLimited, vendor, 'rate limited (429)', {
        source: 'vendor',
        status: 429,
        retryAfterMs: parseRetryAfter(error.headers.get('retry-after'), now) ?? DEFAULT_RATE_LIMIT_WAIT_MS,
      });
    return classifyHttpStatus(
      vendor,
      error.status,
      error.statusText || 'request failed',
      error.headers.get('retry-after'),
    );
  }
  if (error instanceof TypeError || (error instanceof DOMException && error.name === 'TimeoutError'))
    return new VendorError(VendorFailureType.VendorUnavailable, vendor, 'no response (network or timeout)');
  if (error instanceof SyntaxError)
    return new VendorError(VendorFailureType.VendorUnavailable, vendor, 'answer is not JSON');
  return error;
}
