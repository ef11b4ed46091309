/**
 * The faults of `npm run chaos`, each injected into a running stack at a moment of the trial's
 * choosing: during the first sync (its pages are slow enough to be hit anywhere) or, for
 * `temporal-restart-connect`, while the connect run waits for the admin's consent. Each answers a
 * short description of the moment it hit, for the trial's line.
 */
import { workflowIds } from '../../workflows/definitions';
import type { ChaosStack } from './stack';

export const FAULT_NAMES = [
  'worker-kill',
  'postgres-restart',
  'temporal-restart-sync',
  'temporal-restart-connect',
  'vendor-errors',
  'network-cut',
  'token-rotation',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];
/** The faults injected into one integration's sync or connect; `token-rotation` is a trial of its own (`./rotations`). */
export type InjectedFault = Exclude<FaultName, 'token-rotation'>;

/** How long a stopped server or a cut network stays down. */
export const OUTAGE_MS = 5_000;
/** The vendor fault: this share of requests answered 503 or 429 (Retry-After below) for the whole sync. */
export const VENDOR_ERROR_RATE = 0.3;
const VENDOR_RETRY_AFTER_SECONDS = 1;

export interface FaultContext {
  stack: ChaosStack;
  ref: { workspaceId: string; integrationId: string };
  /** Latency the emulator adds to every request outside the vendor fault too. */
  vendorLatencyMs: number;
  random: () => number;
}

export interface Fault {
  name: InjectedFault;
  phase: 'connect' | 'sync';
  /** Injects the fault now; answers what it hit. */
  inject(context: FaultContext): Promise<string>;
  /** Undoes a fault that lasts for the whole phase (the vendor's errors), once the sync is over. */
  end?(context: FaultContext): Promise<void>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;

/** Pages committed so far, summed over the resources (where in the sync the fault hit). */
async function committedPages({ stack, ref }: FaultContext): Promise<number> {
  const row = await stack
    .admin('sync_state')
    .where({ integration_id: ref.integrationId })
    .sum({ pages: 'pages' })
    .first();
  return Number(row?.pages ?? 0);
}

/** The worker process running the sync's activity now (its identity is `worker@host:pid`), or what is instead. */
async function workerRunningTheSync({ stack, ref }: FaultContext): Promise<{ index?: number; note: string }> {
  const description = await stack.temporal.workflow
    .getHandle(workflowIds.sync(ref.workspaceId, ref.integrationId))
    .describe()
    .catch((error: unknown) => (error instanceof Error ? error.name : 'error'));
  if (typeof description === 'string') return { note: `sync not described: ${description}` };
  const activity = description.raw.pendingActivities?.[0];
  if (!activity) return { note: 'between activities' };
  const pid = Number(/:(\d+)$/.exec(activity.lastWorkerIdentity ?? '')?.[1]);
  const index = stack.workers.findIndex((worker) => worker.child?.pid === pid);
  return index >= 0 ? { index, note: 'running the sync' } : { note: `activity not started on a worker` };
}

const workerKill: Fault = {
  name: 'worker-kill',
  phase: 'sync',
  async inject(context) {
    const running = await workerRunningTheSync(context);
    const index = running.index ?? Math.floor(context.random() * context.stack.workers.length);
    const child = context.stack.workers[index]!.child;
    if (!child) return `worker-${index + 1} was down already`;
    const pages = await committedPages(context);
    const gone = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGKILL');
    await gone;
    return `SIGKILL worker-${index + 1} (${running.note}) after ${pages} pages`;
  },
};

const postgresRestart: Fault = {
  name: 'postgres-restart',
  phase: 'sync',
  async inject(context) {
    const pages = await committedPages(context);
    await context.stack.restartPostgres(OUTAGE_MS);
    return `Postgres down ${seconds(OUTAGE_MS)} after ${pages} pages`;
  },
};

const temporalRestartSync: Fault = {
  name: 'temporal-restart-sync',
  phase: 'sync',
  async inject(context) {
    const pages = await committedPages(context);
    await context.stack.restartTemporal(OUTAGE_MS);
    return `Temporal down ${seconds(OUTAGE_MS)} after ${pages} pages`;
  },
};

const temporalRestartConnect: Fault = {
  name: 'temporal-restart-connect',
  phase: 'connect',
  async inject(context) {
    await context.stack.restartTemporal(OUTAGE_MS);
    return `Temporal down ${seconds(OUTAGE_MS)} while the connect awaited consent`;
  },
};

const vendorErrors: Fault = {
  name: 'vendor-errors',
  phase: 'sync',
  async inject(context) {
    context.stack.faults.set({
      latencyMs: context.vendorLatencyMs,
      errorRate: VENDOR_ERROR_RATE,
      retryAfterSeconds: VENDOR_RETRY_AFTER_SECONDS,
    });
    return `${VENDOR_ERROR_RATE * 100} % 503/429 (Retry-After ${VENDOR_RETRY_AFTER_SECONDS} s) until the sync ends`;
  },
  async end(context) {
    context.stack.faults.set({ latencyMs: context.vendorLatencyMs });
  },
};

const networkCut: Fault = {
  name: 'network-cut',
  phase: 'sync',
  async inject(context) {
    const pages = await committedPages(context);
    await context.stack.proxy.cut();
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await context.stack.proxy.restore();
    return `vendor network cut ${seconds(OUTAGE_MS)} after ${pages} pages`;
  },
};

export const FAULTS: Record<InjectedFault, Fault> = {
  'worker-kill': workerKill,
  'postgres-restart': postgresRestart,
  'temporal-restart-sync': temporalRestartSync,
  'temporal-restart-connect': temporalRestartConnect,
  'vendor-errors': vendorErrors,
  'network-cut': networkCut,
};
