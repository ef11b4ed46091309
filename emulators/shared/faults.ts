/**
 * Fault injection for any emulator server (the chaos harness, `npm run chaos`): while a fault mode
 * is on, every request is delayed by `latencyMs`, and a share `errorRate` of them is answered, in
 * equal parts, with a 503 (the vendor's gateway failing) or a 429 with `Retry-After` (its rate
 * limiter), as real vendors do under load; the rest reach the route. Off by default.
 */
import type { EmulatorResponse } from './http';
import { tooManyRequests } from './rateStorm';

export interface FaultSettings {
  /** Added to every request before it is answered. */
  latencyMs?: number;
  /** Share (0–1) of requests answered with a 503 or a 429 instead of the route. */
  errorRate?: number;
  /** Retry-After of the injected 429s. */
  retryAfterSeconds?: number;
}

export interface FaultCounts {
  requests: number;
  serverErrors: number;
  throttled: number;
}

export interface FaultMode {
  set(settings: FaultSettings): void;
  clear(): void;
  /** What the injected faults did since the emulator started. */
  counts(): FaultCounts;
  /** Waits the latency, then answers the injected failure, if any, for this request. */
  intercept(): Promise<EmulatorResponse | undefined>;
}

const SERVICE_UNAVAILABLE: EmulatorResponse = {
  status: 503,
  headers: { 'content-type': 'application/json; charset=utf-8' },
  body: { message: 'Service Unavailable' },
};

/** `random`: the source of the error draws (a seeded one makes a chaos trial repeatable). */
export function createFaultMode(random: () => number = Math.random): FaultMode {
  let settings: FaultSettings = {};
  const counts: FaultCounts = { requests: 0, serverErrors: 0, throttled: 0 };
  return {
    set(next) {
      settings = { ...next };
    },
    clear() {
      settings = {};
    },
    counts: () => ({ ...counts }),
    async intercept() {
      const { latencyMs = 0, errorRate = 0, retryAfterSeconds = 1 } = settings;
      counts.requests += 1;
      if (latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, latencyMs));
      const draw = random();
      if (draw >= errorRate) return undefined;
      if (draw < errorRate / 2) {
        counts.serverErrors += 1;
        return SERVICE_UNAVAILABLE;
      }
      counts.throttled += 1;
      return tooManyRequests(retryAfterSeconds);
    },
  };
}
