/**
 * `Server-Timing` (W3C) on every response: where the API spent a request's time, so a caller or
 * `npm run bench:api` can tell a slow Temporal call or audit append from time spent in the HTTP
 * layer and the event loop (`app` minus the named parts). Durations only, never names or values
 * from the request.
 */
import type { FastifyRequest } from 'fastify';
import type { Api } from './types';

/** The named parts a route's time is split into. */
export type TimedPart = 'auth' | 'temporal' | 'audit';

export class RequestTiming {
  private readonly parts = new Map<TimedPart, number>();
  readonly startedAt = performance.now();

  /** Runs `work`, adding its duration (failed or not) to `part`. */
  async measure<T>(part: TimedPart, work: () => Promise<T>): Promise<T> {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      this.parts.set(part, (this.parts.get(part) ?? 0) + performance.now() - t0);
    }
  }

  header(): string {
    const entries = [...this.parts].map(([part, ms]) => `${part};dur=${ms.toFixed(2)}`);
    return [...entries, `app;dur=${(performance.now() - this.startedAt).toFixed(2)}`].join(', ');
  }
}

declare module 'fastify' {
  interface FastifyRequest {
    timing: RequestTiming;
  }
}

/** Starts each request's clock; call first, before any other hook. */
export function startServerTiming(app: Api): void {
  app.decorateRequest('timing', null as unknown as RequestTiming);
  app.addHook('onRequest', async (request: FastifyRequest) => {
    request.timing = new RequestTiming();
  });
}

/** Writes the header; call after every other onSend hook (hooks run in registration order), so the audit append is counted. */
export function sendServerTiming(app: Api): void {
  app.addHook('onSend', async (request, reply, payload) => {
    // Router-level refusals (frameworkErrors) skip onRequest, so they have no clock.
    if (request.timing) reply.header('server-timing', request.timing.header());
    return payload;
  });
}
