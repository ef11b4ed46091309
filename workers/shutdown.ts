/**
 * Graceful worker shutdown (Kubernetes sends SIGTERM, waits `terminationGracePeriodSeconds`, then
 * SIGKILLs). On the first SIGTERM or SIGINT the worker stops polling, activities are told through
 * `workerShutdown` (no new vendor request; sync batches return at their next commit), in-flight
 * activities get the configured grace to finish, and whatever still runs then is cancelled. The
 * grace covers a whole data-out action, so an action sent before the signal always reaches its
 * recorded outcome before the process exits.
 */
import type { Worker } from '@temporalio/worker';
import type { Logger } from '../lib/logger';
import { VENDOR_ACTION_TIMEOUT_MS } from '../workflows/timeouts';

export const SHUTDOWN_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT'];

/**
 * How long past the grace the worker may take to report completions and close before the SDK gives
 * up on it; the chart's `terminationGracePeriodSeconds` is grace + this margin.
 */
export const SHUTDOWN_FORCE_MARGIN_MS = 10_000;

/**
 * How long past the grace an orchestrator should wait before SIGKILL: the force margin plus time
 * to close connections (the chart's `worker.terminationMarginSeconds`, `npm start`'s supervisor).
 */
export const TERMINATION_MARGIN_MS = SHUTDOWN_FORCE_MARGIN_MS + 5_000;

/** A grace shorter than a data-out action could cut one off after it was sent. */
export function shutdownGraceProblem(graceMs: number): string | undefined {
  if (graceMs >= VENDOR_ACTION_TIMEOUT_MS) return undefined;
  return `WORKER_SHUTDOWN_GRACE must be at least ${VENDOR_ACTION_TIMEOUT_MS / 1000}s (a data-out action's timeout), so an action in flight at shutdown finishes and is recorded`;
}

/** The worker's shutdown options for `createWorker`. */
export function shutdownTimes(graceMs: number): { shutdownGraceTime: number; shutdownForceTime: number } {
  return { shutdownGraceTime: graceMs, shutdownForceTime: graceMs + SHUTDOWN_FORCE_MARGIN_MS };
}

/**
 * Installs the signal handlers (the Runtime's own are off: `installWorkerRuntime`). Returns the
 * signal the activities observe; it aborts before the worker stops polling.
 */
export function shutdownOnSignals(options: {
  worker: Pick<Worker, 'shutdown'>;
  logger: Pick<Logger, 'info'>;
  graceMs: number;
  controller: AbortController;
}): () => void {
  const onSignal = (signal: NodeJS.Signals) => {
    if (options.controller.signal.aborted) return;
    options.logger.info({ signal, graceMs: options.graceMs }, 'worker shutting down');
    options.controller.abort();
    options.worker.shutdown();
  };
  for (const signal of SHUTDOWN_SIGNALS) process.on(signal, onSignal);
  return () => {
    for (const signal of SHUTDOWN_SIGNALS) process.off(signal, onSignal);
  };
}
