/**
 * Keeps one long-running child alive for `npm start`: when it exits while not being stopped, it is
 * started again after an exponential backoff (bounded, reset once a run has lasted a stable period),
 * and repeated quick exits are reported as a crash loop. A crashed worker must not take the API down.
 */
import type { ChildProcess } from 'node:child_process';

export interface BackoffPolicy {
  /** Delay before the first restart. */
  initialMs: number;
  /** The delay doubles per quick exit up to this bound. */
  maxMs: number;
  /** A run that lasted this long was healthy: the next exit starts the backoff over. */
  stableMs: number;
  /** This many quick exits in a row are reported as a crash loop (restarts go on at maxMs). */
  crashLoopAfter: number;
}

export const DEFAULT_BACKOFF: BackoffPolicy = { initialMs: 1_000, maxMs: 30_000, stableMs: 60_000, crashLoopAfter: 5 };

export interface SupervisorOptions {
  name: string;
  /** Starts one run of the child. */
  spawn(): ChildProcess;
  /** Stops a run (SIGTERM, then SIGKILL after a grace period); resolves once it is gone. */
  stopChild(child: ChildProcess): Promise<void>;
  log(line: string): void;
  /** Told of every unexpected exit, before the restart is scheduled. */
  onExit?(code: number | string | null): void;
  backoff?: Partial<BackoffPolicy>;
}

export interface Supervised {
  /** The current run, if one is up (undefined while waiting to restart or once stopped). */
  readonly child: ChildProcess | undefined;
  /** Unexpected exits so far. */
  readonly restarts: number;
  /** Stops the current run and cancels any pending restart. */
  stop(): Promise<void>;
}

/** Delay before restart number `quickExits` (1-based) of a run of quick exits. */
export function restartDelayMs(quickExits: number, policy: Pick<BackoffPolicy, 'initialMs' | 'maxMs'>): number {
  return Math.min(policy.initialMs * 2 ** Math.max(quickExits - 1, 0), policy.maxMs);
}

export function supervise(options: SupervisorOptions): Supervised {
  const policy = { ...DEFAULT_BACKOFF, ...options.backoff };
  let child: ChildProcess | undefined;
  let stopping = false;
  let restarts = 0;
  let quickExits = 0;
  let pendingRestart: NodeJS.Timeout | undefined;

  const start = () => {
    pendingRestart = undefined;
    const startedAt = Date.now();
    const run = options.spawn();
    child = run;
    run.once('exit', (code, signal) => {
      if (child === run) child = undefined;
      if (stopping) return;
      const status = signal ?? code;
      restarts++;
      quickExits = Date.now() - startedAt >= policy.stableMs ? 1 : quickExits + 1;
      options.onExit?.(status);
      const delay = restartDelayMs(quickExits, policy);
      options.log(`${options.name} exited (${status}); restarting in ${delay} ms (restart ${restarts})`);
      if (quickExits === policy.crashLoopAfter)
        options.log(
          `${options.name} is crash-looping: ${quickExits} exits in a row, none lasting ${policy.stableMs} ms; ` +
            `still restarting every ${policy.maxMs} ms at most, see its output above`,
        );
      pendingRestart = setTimeout(start, delay);
    });
  };
  start();

  return {
    get child() {
      return child;
    },
    get restarts() {
      return restarts;
    },
    async stop() {
      stopping = true;
      clearTimeout(pendingRestart);
      if (child) await options.stopChild(child);
    },
  };
}
