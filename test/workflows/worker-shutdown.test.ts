/**
 * Graceful shutdown (issue #17, item 3), on the dev server with real Postgres: on SIGTERM a worker
 * PROCESS stops polling, lets the data-out action it is performing finish and record its outcome
 * within the grace, and exits 0; the action started after the signal runs on the next worker. An
 * action whose worker is already shutting down when it would be sent is refused before sending,
 * recorded as not sent, and performed once on another worker: no action is left ambiguous. A sync
 * batch returns at its next committed page, and the next worker resumes from that cursor.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import type { WorkflowHandle } from '@temporalio/client';
import { MemoryConnector } from '../../dev/memoryConnector';
import { workflowIds, type VendorActionInput } from '../../workflows/definitions';
import type { vendorActionWorkflow } from '../../workflows/vendorAction';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';
import { createHarness, seedConnectedIntegration, type Harness } from './support/harness';
import { ADMIN, pollUntil } from './support/workflowHelpers';

const GRACE_MS = 10_000;
const ACTION_DELAY_MS = 3_000;

interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function spawnWorker(taskQueue: string, kek: Buffer): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'support/killableWorker.ts')], {
    env: {
      ...process.env,
      KILL_TASK_QUEUE: taskQueue,
      KILL_RECORDS: '0',
      KILL_ACTION_DELAY_MS: String(ACTION_DELAY_MS),
      KILL_SHUTDOWN_GRACE_MS: String(GRACE_MS),
      KILL_KEK: kek.toString('base64'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`worker exited before ready (${code})`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes('ready\n')) resolve({ child, output: () => output, exited });
    });
  });
}

/** A connected memory-vendor integration whose consent includes data out. */
async function seedWritableIntegration(h: Harness) {
  const ref = await seedConnectedIntegration(h, {
    accessToken: 'seed-access',
    refreshToken: 'seed-refresh',
    grantedScopes: ['repo:read', 'issues:write'],
  });
  await h
    .admin('integrations')
    .where({ integration_id: ref.integrationId })
    .update({ requested_scopes: ['repo:read', 'issues:write'], granted_scopes: ['repo:read', 'issues:write'] });
  return ref;
}

type ActionHandle = WorkflowHandle<typeof vendorActionWorkflow>;

describe('worker shutdown on SIGTERM (dev server, worker processes, real Postgres)', () => {
  const kek = crypto.randomBytes(32);
  let h: Harness;
  let server: Awaited<ReturnType<typeof devServer>>;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    h = createHarness(undefined, kek);
    server = await devServer();
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await server.close();
    await h.close();
  });

  const startAction = (ref: { workspaceId: string; integrationId: string }, taskQueue: string, title: string) => {
    const input: VendorActionInput = {
      ...ref,
      vendor: 'github',
      action: 'create-record',
      input: { title },
      actor: ADMIN,
    };
    return server.client.workflow.start('vendorActionWorkflow', {
      taskQueue,
      workflowId: workflowIds.action(ref.workspaceId, ref.integrationId, crypto.randomUUID()),
      args: [input],
    }) as Promise<ActionHandle>;
  };
  const actionAudit = (integrationId: string) =>
    h
      .admin('audit_log')
      .where({ integration_id: integrationId })
      .whereIn('action', ['create-record', 'integration.action.create-record'])
      .orderBy('seq')
      .select('direction', 'outcome', 'error_class');
  const activityWorkerIdentity = async (handle: ActionHandle) => {
    const history = await handle.fetchHistory();
    const started = history.events!.filter((event) => event.activityTaskStartedEventAttributes);
    return started.map((event) => event.activityTaskStartedEventAttributes!.identity);
  };

  it('an action in flight at SIGTERM finishes and is recorded before the worker exits 0; the next action waits for the next worker', async () => {
    const ref = await seedWritableIntegration(h);
    const taskQueue = uniqueTaskQueue('worker-shutdown');
    const first = await spawnWorker(taskQueue, kek);
    children.push(first.child);

    const inFlight = await startAction(ref, taskQueue, 'in flight');
    await pollUntil(
      async () => first.output(),
      (output) => output.includes('received in flight'),
      30_000,
    );
    const signalledAt = Date.now();
    first.child.kill('SIGTERM');
    const afterSignal = await startAction(ref, taskQueue, 'after the signal');

    expect(await first.exited).toBe(0);
    const drainMs = Date.now() - signalledAt;
    // It waited for the request in flight (the vendor takes 3 s), and no longer than the grace.
    expect(drainMs).toBeGreaterThan(ACTION_DELAY_MS - 1_000);
    expect(drainMs).toBeLessThan(GRACE_MS);
    expect(first.output()).toContain('stopped');
    expect(first.output()).not.toContain('received after the signal');

    // The action in flight completed on the first worker: its outcome is in the history and the audit log.
    const inFlightHistory = (await inFlight.fetchHistory()).events!;
    expect(inFlightHistory.filter((e) => e.activityTaskCompletedEventAttributes)).toHaveLength(1);
    expect(await activityWorkerIdentity(inFlight)).toEqual([`killable-${first.child.pid}`]);
    expect(await actionAudit(ref.integrationId)).toEqual([
      { direction: 'outbound', outcome: 'success', error_class: null },
      { direction: 'internal', outcome: 'success', error_class: null },
    ]);
    // The one started after the signal was not taken by the stopping worker: the next one performs it.
    expect(await activityWorkerIdentity(afterSignal)).toEqual([]);
    const second = await spawnWorker(taskQueue, kek);
    children.push(second.child);
    expect(await inFlight.result()).toEqual({ externalId: expect.stringMatching(/^created-/) });
    expect(await afterSignal.result()).toEqual({ externalId: expect.stringMatching(/^created-/) });
    expect(await activityWorkerIdentity(afterSignal)).toEqual([`killable-${second.child.pid}`]);
    expect(await actionAudit(ref.integrationId)).toHaveLength(4);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120_000);

  it('an action reached after the shutdown began is not sent, is recorded as not sent, and runs once on another worker', async () => {
    const ref = await seedWritableIntegration(h);
    const taskQueue = uniqueTaskQueue('worker-shutdown-unsent');
    const stopping = new AbortController();
    stopping.abort();
    const stoppingVendor = new MemoryConnector();
    const stoppingHarness = createHarness(stoppingVendor, kek, stopping.signal);
    const healthyVendor = new MemoryConnector();
    const healthyHarness = createHarness(healthyVendor, kek);
    try {
      const handle = await startAction(ref, taskQueue, 'sent once');
      const stoppingWorker = await testWorker({
        connection: server.connection,
        taskQueue,
        activities: stoppingHarness.activities,
      });
      await stoppingWorker.runUntil(
        pollUntil(
          () => actionAudit(ref.integrationId),
          (rows) => rows.length > 0,
          30_000,
        ),
      );
      const healthyWorker = await testWorker({
        connection: server.connection,
        taskQueue,
        activities: healthyHarness.activities,
      });
      const result = await healthyWorker.runUntil(handle.result());
      expect(result).toEqual({ externalId: expect.stringMatching(/^created-/) });

      expect(stoppingVendor.records.size).toBe(0);
      expect([...healthyVendor.records.values()].map((r) => r.title)).toEqual(['sent once']);
      const audit = await actionAudit(ref.integrationId);
      // Every refusal names why it was not sent; exactly one request went out, and succeeded.
      expect(audit.slice(0, -2).length).toBeGreaterThan(0);
      for (const row of audit.slice(0, -2)) {
        expect(row).toEqual({ direction: 'internal', outcome: 'denied', error_class: 'WorkerShuttingDown' });
      }
      expect(audit.slice(-2)).toEqual([
        { direction: 'outbound', outcome: 'success', error_class: null },
        { direction: 'internal', outcome: 'success', error_class: null },
      ]);
    } finally {
      await stoppingHarness.close();
      await healthyHarness.close();
    }
  }, 90_000);

  it('a sync batch stops at its next committed page once the worker is shutting down; the next worker resumes from its cursor', async () => {
    const vendor = new MemoryConnector();
    for (let i = 0; i < 500; i++) vendor.upsert(`rec-${String(i).padStart(3, '0')}`, `title ${i}`);
    const stopping = new AbortController();
    stopping.abort();
    const stoppingHarness = createHarness(vendor, kek, stopping.signal);
    const healthyHarness = createHarness(vendor, kek);
    try {
      const ref = await seedConnectedIntegration(stoppingHarness);
      await h.admin('sync_state').insert({ ...refColumns(ref), resource: 'issues', cursor: 'delta:0', status: 'idle' });
      const input = { ...ref, resource: 'issues', maxPages: 5 };
      const stopped = await stoppingHarness.activities.syncPages(input);
      expect([stopped.pages, stopped.recordsUpserted, stopped.roundComplete]).toEqual([1, 100, false]);
      const resumed = await healthyHarness.activities.syncPages(input);
      expect([resumed.pages, resumed.recordsUpserted, resumed.roundComplete]).toEqual([4, 400, true]);
      const cached = await h.admin('cached_records').where({ integration_id: ref.integrationId }).count().first();
      expect(Number(cached!.count)).toBe(500);
    } finally {
      await stoppingHarness.close();
      await healthyHarness.close();
    }
  });
});

const refColumns = (ref: { workspaceId: string; integrationId: string }) => ({
  workspace_id: ref.workspaceId,
  integration_id: ref.integrationId,
});
