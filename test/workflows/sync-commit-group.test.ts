/**
 * `syncPages` commits several fetched vendor pages in ONE transaction with the last page's cursor
 * (SYNC_COMMIT_GROUP). A group that fails after its records were written (here: Postgres refuses
 * one of its rows, as a crash, a lost connection or a killed statement would end it) leaves neither
 * its records nor its cursor, and the retry refetches it from the stored cursor: 0 lost, 0
 * duplicated, the committed counters exact (T11). Real Postgres; groups of 3 two-record pages.
 */
import crypto from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { SyncBatchInput, SyncBatchResult } from '../../activities/integrations/sync';
import { MemoryConnector, memoryDescriptor } from '../../dev/memoryConnector';
import { cachedIds, createVendorHarness, seedConnectedIntegration, type Harness } from './support/harness';

/** Pages of 2 records, committed 3 pages (6 records) at a time. */
const PAGE_SIZE = 2;
const GROUP = { records: 6, ms: 60_000 };
const RECORDS = 20;
const recordId = (n: number) => `rec-${String(n).padStart(2, '0')}`;

describe('sync pages committed in groups', () => {
  let h: Harness;
  beforeAll(() => {
    const connector = new MemoryConnector(PAGE_SIZE);
    h = {
      ...createVendorHarness([{ descriptor: memoryDescriptor, connector }], { syncCommitGroup: GROUP }),
      connector,
    };
  });
  afterAll(async () => {
    await h.close();
  });

  const runId = crypto.randomUUID();
  /** One attempt `n` of the scheduled activity `activityId` (a Temporal retry keeps the ids). */
  const attempt = (input: SyncBatchInput, activityId: string, n: number) =>
    new MockActivityEnvironment({
      workflowExecution: { workflowId: 'sync-commit-group-test', runId },
      activityId,
      attempt: n,
    }).run(h.activities.syncPages, input) as Promise<SyncBatchResult>;

  const committed = async (integrationId: string) => {
    const row = await h.admin('sync_state').where({ integration_id: integrationId, resource: 'issues' }).first();
    return {
      cursor: row.cursor as string,
      pages: Number(row.pages),
      recordsUpserted: Number(row.records_upserted),
      recordsDeleted: Number(row.records_deleted),
    };
  };

  /** Postgres refuses `externalId`'s row of this integration until the answer is called: its group's transaction fails. */
  const refuseRow = async (integrationId: string, externalId: string) => {
    const name = `refuse_${crypto.randomUUID().replaceAll('-', '')}`;
    await h.admin.raw(`CREATE FUNCTION ${name}() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        IF NEW.integration_id = '${integrationId}' AND NEW.external_id = '${externalId}' THEN
          RAISE EXCEPTION 'refused for the test';
        END IF;
        RETURN NEW;
      END $$`);
    await h.admin.raw(
      `CREATE TRIGGER ${name} BEFORE INSERT OR UPDATE ON cached_records FOR EACH ROW EXECUTE FUNCTION ${name}()`,
    );
    return async () => {
      await h.admin.raw(`DROP TRIGGER ${name} ON cached_records`);
      await h.admin.raw(`DROP FUNCTION ${name}()`);
    };
  };

  /** A connected integration whose cursor is the connector's current change: it syncs what changes next. */
  const seedAtCurrentChange = async (seq: number) => {
    const ref = await seedConnectedIntegration(h);
    await h.admin('sync_state').insert({
      workspace_id: ref.workspaceId,
      integration_id: ref.integrationId,
      resource: 'issues',
      cursor: `delta:${seq}`,
      status: 'idle',
    });
    return ref;
  };

  it('T11: a group failing after its records were written leaves no record and no cursor of it; the retry ends with 0 lost, 0 duplicated', async () => {
    const ref = await seedAtCurrentChange(0);
    for (let n = 1; n <= RECORDS; n++) h.connector.upsert(recordId(n), `title ${n}`);
    const input = { ...ref, resource: 'issues', maxPages: 20 };

    // The first group (pages 1–3, rec-01…rec-06) is refused at rec-05: the attempt commits nothing.
    let restore = await refuseRow(ref.integrationId, recordId(5));
    await expect(attempt(input, '1', 1)).rejects.toThrow(/refused for the test/);
    await restore();
    expect(await cachedIds(h, ref.integrationId)).toEqual([]);
    expect(await committed(ref.integrationId)).toEqual({
      cursor: 'delta:0',
      pages: 0,
      recordsUpserted: 0,
      recordsDeleted: 0,
    });

    // The retry: its second group (pages 4–6, rec-07…rec-12) is refused at rec-11, in the middle of
    // the group's upsert; the first group stays committed, and the batch reports it alone.
    restore = await refuseRow(ref.integrationId, recordId(11));
    const retry = await attempt(input, '1', 2);
    await restore();
    expect(retry).toMatchObject({ pages: 3, recordsUpserted: 6, roundComplete: false });
    expect(await cachedIds(h, ref.integrationId)).toEqual([1, 2, 3, 4, 5, 6].map(recordId));
    expect(await committed(ref.integrationId)).toEqual({
      cursor: 'delta:6',
      pages: 3,
      recordsUpserted: 6,
      recordsDeleted: 0,
    });

    // The next batch resumes from the stored cursor and ends the round.
    const rest = await attempt(input, '2', 1);
    expect(rest).toMatchObject({ pages: 7, recordsUpserted: 14, roundComplete: true });
    expect(await cachedIds(h, ref.integrationId)).toEqual(Array.from({ length: RECORDS }, (_, i) => recordId(i + 1)));
    // Every page counted once: the batches' counts and the stored counters are the vendor's totals.
    expect(retry.recordsUpserted + rest.recordsUpserted).toBe(RECORDS);
    expect(await committed(ref.integrationId)).toEqual({
      cursor: `delta:${RECORDS}`,
      pages: RECORDS / PAGE_SIZE,
      recordsUpserted: RECORDS,
      recordsDeleted: 0,
    });
    expect(rest.totals).toEqual({ pages: RECORDS / PAGE_SIZE, recordsUpserted: RECORDS, recordsDeleted: 0 });
  });

  it('a group applies its pages in order: a record deleted on a later page is gone, one re-added after its deletion stays; counts as page by page', async () => {
    // Changes after the previous test's: page 1 upserts a and b, page 2 deletes a (c, created and
    // deleted later, is not live), page 3 re-adds a and deletes c. One group of 3 pages.
    const ref = await seedAtCurrentChange(RECORDS);
    const start = h.connector.fetchCalls;
    for (const id of ['a', 'b']) h.connector.upsert(id, `title ${id}`);
    h.connector.remove('a');
    h.connector.upsert('c', 'title c');
    h.connector.upsert('a', 'title a again');
    h.connector.remove('c');

    const batch = await attempt({ ...ref, resource: 'issues', maxPages: 20 }, '3', 1);
    expect(h.connector.fetchCalls - start).toBe(3);
    expect(batch).toMatchObject({ pages: 3, recordsUpserted: 3, recordsDeleted: 1, roundComplete: true });
    expect(await cachedIds(h, ref.integrationId)).toEqual(['a', 'b']);
    const a = await h.admin('cached_records').where({ integration_id: ref.integrationId, external_id: 'a' }).first();
    expect(a.payload).toEqual({ title: 'title a again' });
    expect(await committed(ref.integrationId)).toEqual({
      cursor: `delta:${RECORDS + 6}`,
      pages: 3,
      recordsUpserted: 3,
      recordsDeleted: 1,
    });
  });
});
