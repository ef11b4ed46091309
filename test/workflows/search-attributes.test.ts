/**
 * Ops read runs in the Temporal UI without decoding anything (issue #16, item 3): every run
 * upserts its identity search attributes itself, so a run a backend service starts directly with
 * the Temporal client (no search attributes at start) is found by `WorkspaceId = "…"` too; the
 * sync and lifecycle runs keep `SyncState`, `LastSyncCompletedAt` and `IntegrationStatus` current
 * for visibility queries. Dev server: real visibility.
 */
import crypto from 'node:crypto';
import type { Client, WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter, type TypedSearchAttributes } from '@temporalio/common';
import { integrationStateQuery, syncProgressQuery, workflowIds } from '../../workflows/definitions';
import {
  IntegrationIdKey,
  IntegrationStatusKey,
  LastSyncCompletedAtKey,
  ProcessKey,
  SyncStateKey,
  VendorKey,
  WorkspaceIdKey,
} from '@trackproject/integrations-client/searchAttributes';
import { requestSync } from '@trackproject/integrations-client/client';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';
import { createHarness, seedConnectedIntegration, type Harness } from './support/harness';
import { MEMORY_VENDOR } from '../../dev/memoryConnector';
import { pollUntil } from './support/workflowHelpers';

type Server = Awaited<ReturnType<typeof devServer>>;

/** Run ids a visibility query finds (visibility is eventually consistent: polled). */
async function findRuns(client: Client, query: string, expected: number): Promise<string[]> {
  return pollUntil(
    async () => {
      const runIds: string[] = [];
      for await (const execution of client.workflow.list({ query })) runIds.push(execution.runId);
      return runIds;
    },
    (runIds) => runIds.length >= expected,
  );
}

const attributesOf = async (handle: WorkflowHandle): Promise<TypedSearchAttributes> =>
  (await handle.describe()).typedSearchAttributes;

describe('search attributes ops filter on (dev server, memory connector, real Postgres)', () => {
  let h: Harness;
  let server: Server;
  beforeAll(async () => {
    h = createHarness();
    server = await devServer();
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  it('a sync started directly with the Temporal client carries its identity, a completed one is found by SyncState with LastSyncCompletedAt set, and its steps carry summaries', async () => {
    for (let i = 0; i < 3; i++) h.connector.upsert(`sa-${i}`, 't');
    const ref = await seedConnectedIntegration(h);
    const taskQueue = uniqueTaskQueue('search-attributes-sync');
    const worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
    await worker.runUntil(async () => {
      const before = Date.now();
      const sync = await server.client.workflow.start('syncWorkflow', {
        taskQueue,
        workflowId: workflowIds.sync(ref.workspaceId, ref.integrationId),
        args: [{ ...ref, vendor: MEMORY_VENDOR, request: { reason: 'admin' } }],
      });
      expect((await sync.result()).state).toBe('completed');

      const attributes = await attributesOf(sync);
      expect(attributes.get(WorkspaceIdKey)).toBe(ref.workspaceId);
      expect(attributes.get(IntegrationIdKey)).toBe(ref.integrationId);
      expect(attributes.get(VendorKey)).toBe(MEMORY_VENDOR);
      expect(attributes.get(ProcessKey)).toBe('sync');
      expect(attributes.get(SyncStateKey)).toBe('completed');
      expect(attributes.get(LastSyncCompletedAtKey)!.getTime()).toBeGreaterThanOrEqual(before - 1_000);

      const found = await findRuns(
        server.client,
        `SyncState = "completed" AND WorkspaceId = "${ref.workspaceId}" AND Process = "sync"`,
        1,
      );
      expect(found).toEqual([sync.firstExecutionRunId]);

      // The event list says what each step does, in fixed words.
      const history = await sync.fetchHistory();
      const summaries = history
        .events!.filter((event) => event.activityTaskScheduledEventAttributes)
        .map((event) => defaultPayloadConverter.fromPayload(event.userMetadata!.summary!));
      expect(summaries).toEqual([
        'read the vendor descriptor',
        'read the committed sync totals',
        'fetch and commit a batch of pages',
      ]);
    });
  });

  it('a sync waiting out a vendor rate limit shows SyncState "waiting-rate-limit"', async () => {
    h.connector.upsert('sa-limited', 't');
    const ref = await seedConnectedIntegration(h);
    const taskQueue = uniqueTaskQueue('search-attributes-rate-limit');
    const worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
    h.connector.failures.push({ kind: 'rate-limit', retryAfterMs: 10 * 60_000 });
    await worker.runUntil(async () => {
      const sync = await server.client.workflow.start('syncWorkflow', {
        taskQueue,
        workflowId: workflowIds.sync(ref.workspaceId, ref.integrationId),
        args: [{ ...ref, vendor: MEMORY_VENDOR, request: { reason: 'admin' } }],
      });
      try {
        await pollUntil(
          () => sync.query(syncProgressQuery),
          (progress) => progress.state === 'waiting-rate-limit',
        );
        expect((await attributesOf(sync)).get(SyncStateKey)).toBe('waiting-rate-limit');
        const found = await findRuns(
          server.client,
          `SyncState = "waiting-rate-limit" AND IntegrationId = "${ref.integrationId}"`,
          1,
        );
        expect(found).toEqual([sync.firstExecutionRunId]);
      } finally {
        await sync.terminate('test over');
      }
    });
  });

  it('a lifecycle started directly is found by its integration status and, once its sync completed, by SyncState with LastSyncCompletedAt', async () => {
    h.connector.upsert('sa-lifecycle', 't');
    const ref = await seedConnectedIntegration(h);
    const taskQueue = uniqueTaskQueue('search-attributes-lifecycle');
    const worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
    await worker.runUntil(async () => {
      const lifecycle = await server.client.workflow.start('integrationLifecycleWorkflow', {
        taskQueue,
        workflowId: workflowIds.lifecycle(ref.workspaceId, ref.integrationId),
        args: [{ ...ref, vendor: MEMORY_VENDOR }],
      });
      try {
        await requestSync(lifecycle, { reason: 'admin' });
        const state = await pollUntil(
          () => lifecycle.query(integrationStateQuery),
          (s) => s.lastSync?.state === 'completed',
        );
        const found = await findRuns(
          server.client,
          `SyncState = "completed" AND WorkspaceId = "${ref.workspaceId}" AND Process = "lifecycle"` +
            ` AND IntegrationStatus = "connected"`,
          1,
        );
        expect(found).toEqual([lifecycle.firstExecutionRunId]);
        const attributes = await attributesOf(lifecycle);
        expect(attributes.get(IntegrationIdKey)).toBe(ref.integrationId);
        expect(attributes.get(IntegrationStatusKey)).toBe('connected');
        expect(attributes.get(LastSyncCompletedAtKey)?.toISOString()).toBe(state.lastSync!.finishedAt);
      } finally {
        await lifecycle.terminate('test over');
      }
    });
  });

  it('a run of a workflow outside an integration (workspace delete) is found by its workspace alone', async () => {
    const workspaceId = crypto.randomUUID();
    await h.admin('workspaces').insert({ workspace_id: workspaceId });
    const taskQueue = uniqueTaskQueue('search-attributes-workspace');
    const worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
    await worker.runUntil(async () => {
      const run = await server.client.workflow.start('deleteWorkspaceWorkflow', {
        taskQueue,
        workflowId: workflowIds.workspaceDelete(workspaceId),
        args: [{ workspaceId, actor: { type: 'user', id: 'admin-1' }, purgeDelayMs: 0 }],
      });
      await run.result();
      const found = await findRuns(server.client, `WorkspaceId = "${workspaceId}" AND Process = "workspace-delete"`, 1);
      expect(found).toEqual([run.firstExecutionRunId]);
    });
  });
});
