/**
 * A tiny routed HTTP(S) server on 127.0.0.1 with a random port, for vendor emulators. Handlers get
 * the parsed request (raw body kept for signature schemes) and return a plain response object; every
 * request is appended to `requests` so tests can assert what the real SDK actually sent.
 */
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { Agent, fetch, type Dispatcher } from 'undici';
import type { FaultMode } from './faults';

export interface EmulatorRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  rawBody: Buffer;
  /** JSON or form body parsed by content type; undefined when empty. */
  body: unknown;
  /** Route parameters (`:name` segments). */
  params: Record<string, string>;
}

export interface EmulatorResponse {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as they are. */
  body?: unknown;
}

export type EmulatorHandler = (request: EmulatorRequest) => EmulatorResponse | Promise<EmulatorResponse>;

export interface LoggedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: http.IncomingHttpHeaders;
  body: unknown;
  status: number;
  responseHeaders: Record<string, string>;
}

interface Route {
  method: string;
  segments: string[];
  handler: EmulatorHandler;
}

export class EmulatorRouter {
  private readonly routes: Route[] = [];

  on(method: string, pattern: string, handler: EmulatorHandler): this {
    this.routes.push({ method, segments: pattern.split('/').filter(Boolean), handler });
    return this;
  }

  match(method: string, path: string): { handler: EmulatorHandler; params: Record<string, string> } | undefined {
    const parts = path.split('/').filter(Boolean);
    for (const route of this.routes) {
      if (route.method !== method || route.segments.length !== parts.length) continue;
      const params: Record<string, string> = {};
      const matched = route.segments.every((segment, index) => {
        if (segment.startsWith(':')) {
          params[segment.slice(1)] = decodeURIComponent(parts[index]!);
          return true;
        }
        return segment === parts[index];
      });
      if (matched) return { handler: route.handler, params };
    }
    return undefined;
  }
}

export interface StartedServer {
  url: string;
  requests: LoggedRequest[];
  stop(): Promise<void>;
}

export async function startEmulatorServer(options: {
  router: EmulatorRouter;
  /** Runs before routing (rate storms, global auth); a response short-circuits the route. */
  before?: (request: EmulatorRequest) => EmulatorResponse | undefined;
  /** Injected latency and failures (the chaos harness); they come before everything else, as at a vendor's edge. */
  faults?: FaultMode;
  tls?: { key: string; cert: string };
}): Promise<StartedServer> {
  const requests: LoggedRequest[] = [];
  const listener: http.RequestListener = (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      void respond(req, Buffer.concat(chunks)).then(
        (response) => send(res, response),
        (error: unknown) =>
          send(res, { status: 500, body: { message: error instanceof Error ? error.message : 'emulator error' } }),
      );
    });
  };

  async function respond(req: http.IncomingMessage, rawBody: Buffer): Promise<EmulatorResponse> {
    const url = new URL(req.url ?? '/', 'http://emulator');
    const request: EmulatorRequest = {
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      rawBody,
      body: parseBody(rawBody, req.headers['content-type']),
      params: {},
    };
    const route = options.router.match(request.method, request.path);
    const response =
      (await options.faults?.intercept()) ??
      options.before?.(request) ??
      (route
        ? await route.handler({ ...request, params: route.params })
        : { status: 404, body: { message: 'Not Found' } });
    requests.push({
      method: request.method,
      path: request.path,
      query: Object.fromEntries(url.searchParams),
      headers: req.headers,
      body: request.body,
      status: response.status,
      responseHeaders: response.headers ?? {},
    });
    return response;
  }

  const server = options.tls ? https.createServer(options.tls, listener) : http.createServer(listener);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `${options.tls ? 'https' : 'http'}://127.0.0.1:${port}`,
    requests,
    stop: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}

function parseBody(raw: Buffer, contentType: string | undefined): unknown {
  if (raw.length === 0) return undefined;
  const text = raw.toString('utf8');
  if (contentType?.includes('application/x-www-form-urlencoded')) return Object.fromEntries(new URLSearchParams(text));
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function send(res: http.ServerResponse, response: EmulatorResponse): void {
  const headers = { ...response.headers };
  let payload: string | undefined;
  if (typeof response.body === 'string') payload = response.body;
  else if (response.body !== undefined) {
    payload = JSON.stringify(response.body);
    headers['content-type'] ??= 'application/json; charset=utf-8';
  }
  res.writeHead(response.status, headers);
  res.end(payload);
}

/** Bearer token of a request, if any. */
export function bearerToken(request: EmulatorRequest): string | undefined {
  const header = request.headers.authorization;
  const match = header ? /^(?:Bearer|token)\s+(\S+)$/i.exec(header) : null;
  return match?.[1];
}

/**
 * Deliveries open a connection each, as vendors' webhook senders do: a kept-alive socket the receiver
 * closes as idle just when the next delivery reuses it resets that POST (seen under load), and a POST
 * is not retried.
 */
const deliveryAgent = new Agent({ pipelining: 0 });

/**
 * POSTs a raw body with headers to a URL (webhook deliveries) and returns the receiver's status;
 * `dispatcher` decides which certificates an https receiver may present.
 */
export async function postDelivery(
  url: string,
  rawBody: string,
  headers: Record<string, string>,
  dispatcher?: Dispatcher,
): Promise<number> {
  const response = await fetch(url, {
    method: 'POST',
    body: rawBody,
    headers: { 'content-type': 'application/json', ...headers },
    dispatcher: dispatcher ?? deliveryAgent,
  });
  await response.arrayBuffer();
  return response.status;
}
