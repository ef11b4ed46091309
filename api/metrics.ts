/**
 * The API's metrics (T25), for Prometheus: requests by method, route template and status, and
 * webhook deliveries verified or refused by vendor. Labels are bounded: route templates, never
 * URLs (they carry workspace and integration ids). Served on their own listener
 * (`METRICS_API_ADDRESS`), apart from the public port, so only the network that scrapes reads them.
 */
import http from 'node:http';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Api } from './types';

export interface ApiMetrics {
  registry: Registry;
  requests: Histogram<'method' | 'route' | 'status'>;
  webhookDeliveries: Counter<'vendor' | 'result'>;
}

export function createApiMetrics(): ApiMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'integrations_api_' });
  return {
    registry,
    requests: new Histogram({
      name: 'integrations_api_request_duration_seconds',
      help: 'API requests by method, route template and status',
      labelNames: ['method', 'route', 'status'] as const,
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers: [registry],
    }),
    webhookDeliveries: new Counter({
      name: 'integrations_webhook_deliveries_total',
      help: 'Webhook requests whose signature was verified or refused, by vendor',
      labelNames: ['vendor', 'result'] as const,
      registers: [registry],
    }),
  };
}

/** Times every answered request; a request no route matched is `unmatched` (its URL may be anything). */
export function registerRequestMetrics(app: Api, metrics: ApiMetrics): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.requests.observe(
      { method: request.method, route: request.routeOptions.url ?? 'unmatched', status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });
}

/** Serves `GET /metrics` on `address` (`ip:port`); anything else is 404. */
export async function serveMetrics(address: string, registry: Registry): Promise<http.Server> {
  const separator = address.lastIndexOf(':');
  const host = address.slice(0, separator).replace(/^\[|\]$/g, '');
  const server = http.createServer((request, response) => {
    if (request.method !== 'GET' || request.url !== '/metrics') {
      response.writeHead(404).end();
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(text),
      () => response.writeHead(500).end(),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(address.slice(separator + 1)), host, resolve);
  });
  return server;
}
