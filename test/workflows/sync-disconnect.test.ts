import crypto from 'node:crypto';
import { MEMORY_VENDOR } from '../../dev/memoryConnector';
import { cachedIds, createHarness, seedConnectedIntegration, type Harness } from './support/harness';
import { testWorker, timeSkippingEnv, uniqueTaskQueue } from '../support/temporal';
import { workflowIds } from '../../workflows/definitions';

const THIRTY_DAYS_MS = 30 * 24 * 60 * 60 * 1000;

describe('sync and disconnect workflows (time-skipping server, real Postgres)', () => {
  let h: Harness;
  beforeEach(() => {
    h = createHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('T11 T13: pages 2,500 records exactly once, applies deltas, waits out a 429 on a durable timer, and reconciles deletions after a 410', async () => {
    const ids = Array.from({ length: 2_500 }, (_, i) => `issue-${String(i).padStart(5, '0')}`);
    for (const id of ids) h.connector.upsert(id, `title ${id}`);
    const ref = await seedConnectedIntegration(h);
    const env = await timeSkippingEnv();
    const taskQueue = uniqueTaskQueue('sync');
    const worker = await testWorker({ connection: env.nativeConnection, taskQueue, activities: h.activities });
    const runSync = (full = false) =>
      env.client.workflow.execute('syncWorkflow', {
        taskQueue,
        workflowId: `${workflowIds.sync(ref.workspaceId, ref.integrationId)}/${crypto.randomUUID()}`,
        args: [{ ...ref, vendor: MEMORY_VENDOR, request: { reason: 'admin', full } }],
      });
    try {
      await worker.runUntil(async () => {
        const first = await runSync();
        expect(first).toMatchObject({ state: 'completed', pages: 25, recordsUpserted: 2_500, recordsDeleted: 0 });
        expect(await cachedIds(h, ref.integrationId)).toEqual(ids);

        // Incremental: 2 changed, 1 deleted, after a 429 with Retry-After 90 s.
        h.connector.upsert('issue-00001', 'changed');
        h.connector.upsert('issue-99999', 'new');
        h.connector.remove('issue-00002');
        h.connector.failures.push({ kind: 'rate-limit', retryAfterMs: 90_000 });
        const second = await runSync();
        expect(second).toMatchObject({ state: 'completed', recordsUpserted: 2, recordsDeleted: 1, rateLimitWaits: 1 });

        // The delta expires (410) while a record vanished without a tombstone: the full resync sweeps it.
        h.connector.records.delete('issue-00003');
        h.connector.failures.push({ kind: 'cursor-expired' });
        const third = await runSync();
        expect(third).toMatchObject({ state: 'completed', recordsDeleted: 1 });
      });
      const expected = [...h.connector.records.keys()].sort();
      expect(await cachedIds(h, ref.integrationId)).toEqual(expected);
      expect(expected).toHaveLength(2_499);
      const changed = await h
        .admin('cached_records')
        .where({ integration_id: ref.integrationId, external_id: 'issue-00001' })
        .first();
      expect(changed.payload).toEqual({ title: 'changed' });
      const state = await h.admin('sync_state').where({ integration_id: ref.integrationId }).first();
      expect(state).toMatchObject({ status: 'idle' });
      expect(state.cursor).toMatch(/^delta:/);
    } finally {
      await env.teardown();
    }
  });

  it('T4 T15: disconnect deletes subscriptions, then revokes at the vendor, destroys secrets, clears the cache now and purges after the real 30-day default with a receipt', async () => {
    for (let i = 0; i < 150; i++) h.connector.upsert(`issue-${i}`, 't');
    const ref = await seedConnectedIntegration(h);
    const env = await timeSkippingEnv();
    const taskQueue = uniqueTaskQueue('disconnect');
    const worker = await testWorker({ connection: env.nativeConnection, taskQueue, activities: h.activities });
    try {
      await worker.runUntil(async () => {
        await env.client.workflow.execute('syncWorkflow', {
          taskQueue,
          workflowId: workflowIds.sync(ref.workspaceId, ref.integrationId),
          args: [{ ...ref, vendor: MEMORY_VENDOR, request: { reason: 'admin' } }],
        });
        expect(await cachedIds(h, ref.integrationId)).toHaveLength(150);
        // A delivery left behind (e.g. received during disconnect) is removed by the final purge.
        const startedAt = Date.now();
        const handle = await env.client.workflow.start('disconnectWorkflow', {
          taskQueue,
          workflowId: workflowIds.disconnect(ref.workspaceId, ref.integrationId),
          // Asking for 90 days gets at most 30 (T15).
          args: [{ ...ref, actor: { type: 'user', id: 'admin-1' }, purgeDelayMs: 90 * 24 * 60 * 60 * 1000 }],
        });
        const result = await handle.result();
        expect(result.revokedAtVendor).toBe(true);
        expect(h.connector.revokedTokens).toEqual(['seed-access']);
        const integration = await h.admin('integrations').where({ integration_id: ref.integrationId }).first();
        expect(integration.status).toBe('disconnected');
        expect(integration.disconnected_at).toBeInstanceOf(Date);
        expect(integration.purge_after).toBeNull(); // cleared by the purge, which left its receipt
        expect(Date.now() - startedAt).toBeLessThan(30_000); // 30 days skipped
        const receipt = await h.admin('purge_receipts').where({ receipt_id: result.receiptId }).first();
        expect(receipt).toMatchObject({ integration_id: ref.integrationId, vendor: MEMORY_VENDOR });
        const history = await handle.fetchHistory();
        // A run started now takes the `disconnect-unsubscribe-before-revoke` path: subscriptions go while
        // the grant still works, the installation binding only after the revocation (with the secrets).
        const activities = history.events!.flatMap((e) => {
          const name = e.activityTaskScheduledEventAttributes?.activityType?.name;
          return name ? [name] : [];
        });
        expect(activities).toEqual([
          'beginDisconnect',
          'deleteSubscriptions',
          'revokeAtVendor',
          'destroySecrets',
          'clearCacheAndMarkDisconnected',
          'purgeIntegration',
        ]);
        const timer = history.events!.find((e) => e.timerStartedEventAttributes);
        expect(Number(timer!.timerStartedEventAttributes!.startToFireTimeout!.seconds)).toBe(THIRTY_DAYS_MS / 1000);
      });
      expect(await cachedIds(h, ref.integrationId)).toEqual([]);
      expect(await h.admin('sync_state').where({ integration_id: ref.integrationId })).toEqual([]);
      const secrets = await h.admin('secrets').where({ integration_id: ref.integrationId });
      expect(secrets.length).toBeGreaterThan(0);
      expect(secrets.every((s) => s.state === 'destroyed' && s.ciphertext === null)).toBe(true);
      const audit = await h.admin('audit_log').where({ workspace_id: ref.workspaceId }).pluck('action');
      expect(audit).toEqual(
        expect.arrayContaining(['oauth.revoke', 'integration.disconnected.revoked', 'integration.purged']),
      );
    } finally {
      await env.teardown();
    }
  });
});
