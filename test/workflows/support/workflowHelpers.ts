/** Shared steps of the workflow tests: a workspace row, a connect run driven to its consent URL, polling a query. */
import crypto from 'node:crypto';
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import {
  connectStateQuery,
  integrationStateQuery,
  workflowIds,
  type ConnectInput,
} from '../../../workflows/definitions';
import type { AuditActor } from '../../../lib/audit';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { testWorker, timeSkippingEnv, uniqueTaskQueue } from '../../support/temporal';
import { createHarness, type Harness } from './harness';
import { MEMORY_VENDOR } from '../../../dev/memoryConnector';
import { requestSync } from '@trackproject/integrations-client/client';

export const ADMIN: AuditActor = { type: 'user', id: 'admin-subject-1' };

export async function seedWorkspace(h: Pick<Harness, 'admin'>): Promise<string> {
  const workspaceId = crypto.randomUUID();
  await h.admin('workspaces').insert({ workspace_id: workspaceId });
  return workspaceId;
}

/** Polls `read` (real time: queries do not advance the time-skipping clock) until `done` holds. */
export async function pollUntil<T>(
  read: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`condition not reached within ${timeoutMs} ms; last value: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** An admin's "sync now" on the integration's lifecycle; answers its state once that sync has completed. */
export async function syncNowAndWait(lifecycle: WorkflowHandle) {
  const before = (await lifecycle.query(integrationStateQuery)).lastSync?.finishedAt;
  await requestSync(lifecycle, { reason: 'admin' });
  return pollUntil(
    () => lifecycle.query(integrationStateQuery),
    (s) => s.lastSync?.state === 'completed' && s.lastSync.finishedAt !== before,
    60_000,
  );
}

/** Starts a connect run of the memory vendor without waiting for it to reach consent. */
export async function startConnectRun(
  client: Client,
  taskQueue: string,
  input: Partial<ConnectInput> & { workspaceId: string },
): Promise<{ handle: WorkflowHandle; integrationId: string }> {
  const integrationId = input.integrationId ?? crypto.randomUUID();
  const args: ConnectInput = {
    integrationId,
    vendor: MEMORY_VENDOR,
    requestedScopes: ['repo:read'],
    controls: { repos: ['org/a', 'org/b'] },
    redirectUri: 'https://app.test/oauth/callback',
    actor: ADMIN,
    ...input,
  };
  const handle = await client.workflow.start('connectWorkflow', {
    taskQueue,
    workflowId: workflowIds.connect(args.workspaceId, integrationId),
    args: [args],
  });
  return { handle, integrationId };
}

/** Starts a connect run and returns it with the authorize URL's `state` once consent is awaited. */
export async function startConnect(
  client: Client,
  taskQueue: string,
  input: Partial<ConnectInput> & { workspaceId: string },
): Promise<{ handle: WorkflowHandle; integrationId: string; state: string; authorizeUrl: URL }> {
  const { handle, integrationId } = await startConnectRun(client, taskQueue, input);
  const connectState = await pollUntil(
    () => handle.query(connectStateQuery),
    (s) => s.status === 'awaiting-consent' || s.status === 'failed',
  );
  if (!connectState.authorizeUrl) throw new Error(`connect did not reach consent: ${JSON.stringify(connectState)}`);
  const authorizeUrl = new URL(connectState.authorizeUrl);
  return { handle, integrationId, state: authorizeUrl.searchParams.get('state')!, authorizeUrl };
}

/**
 * Lets a connect-started lifecycle finish its first sync, then stops it once idle
 * (`stopLifecycleWhenIdle`): no test may leave work behind on a task queue whose worker is gone.
 */
export async function settleAndStopLifecycle(
  client: Client,
  workspaceId: string,
  integrationId: string,
): Promise<void> {
  const lifecycle = client.workflow.getHandle(workflowIds.lifecycle(workspaceId, integrationId));
  await pollUntil(
    () => lifecycle.query(integrationStateQuery),
    (s) => s.lastSync?.state === 'completed',
  );
  await stopLifecycleWhenIdle(client, { workspaceId, integrationId });
}

/**
 * Terminates an integration's lifecycle once nothing of it is in flight (no activity of its own, no
 * sync child running): the time-skipping server counts an activity of a terminated run (or of its
 * child, terminated with it) as outstanding for ever, which holds its clock for every later test.
 */
export async function stopLifecycleWhenIdle(
  client: Client,
  ref: { workspaceId: string; integrationId: string },
): Promise<void> {
  const lifecycle = client.workflow.getHandle(workflowIds.lifecycle(ref.workspaceId, ref.integrationId));
  const sync = client.workflow.getHandle(workflowIds.sync(ref.workspaceId, ref.integrationId));
  await pollUntil(
    async () => (await activitiesSettled(lifecycle)) && !(await isRunning(sync)),
    (idle) => idle,
  );
  await lifecycle.terminate('test over');
}

async function activitiesSettled(run: WorkflowHandle): Promise<boolean> {
  const events = (await run.fetchHistory()).events ?? [];
  const scheduled = events.filter((e) => e.activityTaskScheduledEventAttributes).length;
  const closed = events.filter(
    (e) =>
      e.activityTaskCompletedEventAttributes ||
      e.activityTaskFailedEventAttributes ||
      e.activityTaskTimedOutEventAttributes ||
      e.activityTaskCanceledEventAttributes,
  ).length;
  return scheduled === closed;
}

async function isRunning(run: WorkflowHandle): Promise<boolean> {
  try {
    return (await run.describe()).status.name === 'RUNNING';
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) return false;
    throw error;
  }
}

/** Workflow-clock times (epoch ms) at which a run scheduled the named activity. */
export function activityScheduleTimes(history: temporal.api.history.v1.IHistory, activityType: string): number[] {
  return history
    .events!.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === activityType)
    .map((e) => Number(e.eventTime!.seconds) * 1000 + Math.floor((e.eventTime!.nanos ?? 0) / 1e6));
}

export interface TimeSkippingParts {
  h: Harness;
  env: TestWorkflowEnvironment;
  worker: Worker;
  taskQueue: string;
}

/**
 * The per-file set-up of the time-skipping workflow tests: one harness (real Postgres, memory
 * connector) and the shared time-skipping server per file, a fresh worker on its own task queue
 * per test. `bind` receives the parts before each test.
 */
export function useTimeSkippingWorkers(prefix: string, bind: (parts: TimeSkippingParts) => void): void {
  let h: Harness;
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    h = createHarness();
    env = await timeSkippingEnv();
  });
  beforeEach(async () => {
    const taskQueue = uniqueTaskQueue(prefix);
    bind({
      h,
      env,
      taskQueue,
      worker: await testWorker({ connection: env.nativeConnection, taskQueue, activities: h.activities }),
    });
  });
  afterAll(async () => {
    await env.teardown();
    await h.close();
  });
}
