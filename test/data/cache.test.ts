import type { Knex } from 'knex';
import {
  CACHE_TTL_HARD_MAX_MS,
  CacheTtlError,
  cacheTtlFor,
  clearIntegration,
  deleteRecords,
  readRecords,
  sweepExpired,
  upsertRecords,
} from '../../db/cache';
import { withWorkspace } from '../../db/workspaceScope';
import { runtimeDb, superuserDb } from '../support/db';
import { seedWorkspace, type SeededWorkspace } from './support/fixtures';

const HOUR = 60 * 60 * 1000;
const records = (prefix: string, n: number) =>
  Array.from({ length: n }, (_, i) => ({
    externalId: `${prefix}-${i}`,
    payload: { title: `item ${i}`, n: i },
    version: 'v1',
  }));

describe('T3 T4 T15: cache of source data with a TTL', () => {
  let worker: Knex;
  let api: Knex;
  let superuser: Knex;
  let ws: SeededWorkspace;
  const scope = () => ({ workspaceId: ws.workspaceId, integrationId: ws.integrationId, resource: 'issues' });

  beforeAll(async () => {
    worker = runtimeDb('worker');
    api = runtimeDb('api');
    superuser = superuserDb();
    ws = await seedWorkspace(superuser);
  });
  afterAll(async () => {
    await Promise.all([worker.destroy(), api.destroy(), superuser.destroy()]);
  });

  it('T3: a TTL above the hard maximum (or not positive) is refused; per-resource TTLs resolve', async () => {
    for (const ttlMs of [CACHE_TTL_HARD_MAX_MS + 1, 0, -5, 1.5]) {
      await expect(
        withWorkspace(worker, ws.workspaceId, (trx) =>
          upsertRecords(trx, { ...scope(), records: records('bad', 1), ttlMs }),
        ),
      ).rejects.toBeInstanceOf(CacheTtlError);
    }
    expect(cacheTtlFor({ 'jira/issues': HOUR, jira: 2 * HOUR }, 'jira', 'issues')).toBe(HOUR);
    expect(cacheTtlFor({ 'jira/issues': HOUR, jira: 2 * HOUR }, 'jira', 'projects')).toBe(2 * HOUR);
    expect(() => cacheTtlFor({ sap: 30 * 24 * HOUR }, 'sap', 'orders')).toThrow(CacheTtlError);
  });

  it('T3: upserts are idempotent by external id; expired rows are never read and the sweeper deletes them', async () => {
    await withWorkspace(worker, ws.workspaceId, async (trx) => {
      expect(await upsertRecords(trx, { ...scope(), records: records('r', 10), ttlMs: HOUR })).toBe(10);
      expect(
        await upsertRecords(trx, {
          ...scope(),
          records: [...records('r', 10), { externalId: 'r-0', payload: { title: 'changed' }, version: 'v2' }],
          ttlMs: HOUR,
        }),
      ).toBe(10);
    });
    const all = await withWorkspace(worker, ws.workspaceId, (trx) => readRecords(trx, scope()));
    expect(all.filter((r) => r.externalId.startsWith('r-'))).toHaveLength(10);
    expect(all.find((r) => r.externalId === 'r-0')).toMatchObject({ payload: { title: 'changed' }, version: 'v2' });

    // Five records reach their expiry (time moved by rewriting expires_at, as the clock would).
    const expiring = ['r-1', 'r-2', 'r-3', 'r-4', 'r-5'];
    await superuser('cached_records')
      .where({ workspace_id: ws.workspaceId })
      .whereIn('external_id', expiring)
      .update({ expires_at: new Date(Date.now() - 1000) });
    const fresh = await withWorkspace(api, ws.workspaceId, (trx) => readRecords(trx, scope()));
    expect(fresh.map((r) => r.externalId)).not.toEqual(expect.arrayContaining([expect.stringMatching(/^r-[1-5]$/)]));
    expect(
      await withWorkspace(worker, ws.workspaceId, (trx) => readRecords(trx, { ...scope(), externalIds: expiring })),
    ).toEqual([]);

    const swept = await sweepExpired(worker, 2); // small batches: the loop drains the backlog
    expect(swept.cachedRecords).toBeGreaterThanOrEqual(5);
    expect(
      await superuser('cached_records').where({ workspace_id: ws.workspaceId }).whereIn('external_id', expiring),
    ).toEqual([]);
    expect(await superuser('cached_records').where('expires_at', '<=', new Date())).toEqual([]);
    expect(
      await superuser('cached_records').where({ workspace_id: ws.workspaceId }).whereLike('external_id', 'r-%'),
    ).toHaveLength(5);
    // Only the worker may run the sweeper.
    await expect(sweepExpired(api)).rejects.toMatchObject({ code: '42501' });
  });

  it('T3: expired webhook deliveries are swept too', async () => {
    await superuser('webhook_deliveries')
      .where({ workspace_id: ws.workspaceId })
      .update({ expires_at: new Date(Date.now() - 1000) });
    expect((await sweepExpired(worker)).webhookDeliveries).toBeGreaterThanOrEqual(1);
    expect(await superuser('webhook_deliveries').where({ workspace_id: ws.workspaceId })).toEqual([]);
  });

  it('T4 T15: deleting records and clearing an integration remove its cached source data', async () => {
    const other = await seedWorkspace(superuser);
    await withWorkspace(worker, other.workspaceId, (trx) =>
      upsertRecords(trx, {
        workspaceId: other.workspaceId,
        integrationId: other.integrationId,
        resource: 'issues',
        records: records('keep', 3),
        ttlMs: HOUR,
      }),
    );
    await withWorkspace(worker, ws.workspaceId, async (trx) => {
      await upsertRecords(trx, { ...scope(), records: records('d', 4), ttlMs: HOUR });
      expect(await deleteRecords(trx, { ...scope(), externalIds: ['d-0', 'd-1'] })).toBe(2);
      const counts = await clearIntegration(trx, ws.workspaceId, ws.integrationId);
      expect(counts.cachedRecords).toBeGreaterThanOrEqual(2);
      expect(counts.syncState).toBe(1);
    });
    expect(await superuser('cached_records').where({ integration_id: ws.integrationId })).toEqual([]);
    expect(await superuser('sync_state').where({ integration_id: ws.integrationId })).toEqual([]);
    expect(await superuser('cached_records').where({ integration_id: other.integrationId })).toHaveLength(4); // fixture row + 3
  });

  it('T3: upserts sustain the sync throughput budget (figure reported)', async () => {
    const n = 20_000;
    const batch = records('bulk', n);
    const started = process.hrtime.bigint();
    await withWorkspace(worker, ws.workspaceId, (trx) =>
      upsertRecords(trx, { ...scope(), resource: 'bulk', records: batch, ttlMs: HOUR }),
    );
    const insertSeconds = Number(process.hrtime.bigint() - started) / 1e9;
    const restarted = process.hrtime.bigint();
    await withWorkspace(worker, ws.workspaceId, (trx) =>
      upsertRecords(trx, { ...scope(), resource: 'bulk', records: batch, ttlMs: HOUR }),
    );
    const updateSeconds = Number(process.hrtime.bigint() - restarted) / 1e9;
    process.stdout.write(
      `T3 cache upsert: ${n} new rows in ${insertSeconds.toFixed(2)} s (${Math.round(n / insertSeconds)}/s); ${n} updates in ${updateSeconds.toFixed(2)} s (${Math.round(n / updateSeconds)}/s)\n`,
    );
    expect(
      await superuser('cached_records').where({ workspace_id: ws.workspaceId, resource: 'bulk' }).count({ n: '*' }),
    ).toEqual([{ n: String(n) }]);
    // Loose floor on a shared 2-core machine; the figure above is the measurement.
    expect(n / Math.max(insertSeconds, updateSeconds)).toBeGreaterThan(5_000);
  });
});
