/**
 * A retried sync batch after its round's last page committed (a worker killed right after the
 * commit, `npm run chaos`): the retry is the same scheduled activity (same workflow run, same
 * activity id, next attempt), and it must answer the committed round instead of running another —
 * nothing fetched at the vendor again, the committed counters unchanged (T11). Real Postgres; the
 * activity runs in a mock activity context carrying the ids a Temporal retry keeps.
 */
import crypto from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { SyncBatchResult, SyncPageResult } from '../../activities/integrations/sync';
import { MemoryConnector } from '../../dev/memoryConnector';
import { cachedIds, createHarness, seedConnectedIntegration, type Harness } from './support/harness';

describe('sync batch retried after committing the round’s last page', () => {
  let h: Harness;
  beforeAll(() => {
    h = createHarness(new MemoryConnector(2));
  });
  afterAll(async () => {
    await h.close();
  });

  /** One attempt of the scheduled activity `activityId` of the workflow run `runId`. */
  const attempt = <I, R>(
    run: (input: I) => Promise<R>,
    input: I,
    ids: { runId: string; activityId: string },
    n: number,
  ) =>
    new MockActivityEnvironment({
      workflowExecution: { workflowId: 'sync-retry-test', runId: ids.runId },
      activityId: ids.activityId,
      attempt: n,
    }).run(run, input);

  const committed = async (integrationId: string) => {
    const row = await h.admin('sync_state').where({ integration_id: integrationId, resource: 'issues' }).first();
    return { pages: Number(row.pages), recordsUpserted: Number(row.records_upserted), cursor: row.cursor as string };
  };

  it('T11: the retry answers the committed round, fetches nothing and counts nothing twice; the next activity runs a new round', async () => {
    for (const id of ['rec-1', 'rec-2', 'rec-3']) h.connector.upsert(id, `title ${id}`);
    const ref = await seedConnectedIntegration(h);
    const input = { ...ref, resource: 'issues', maxPages: 20 };
    const batch = { runId: crypto.randomUUID(), activityId: '7' };

    const first = (await attempt(h.activities.syncPages, input, batch, 1)) as SyncBatchResult;
    expect(first).toMatchObject({ pages: 2, recordsUpserted: 3, roundComplete: true });
    const fetched = h.connector.fetchCalls;
    const afterCommit = await committed(ref.integrationId);
    expect(afterCommit).toMatchObject({ pages: 2, recordsUpserted: 3 });

    // The worker died before Temporal got the reply: the same activity's next attempt, same input.
    const retry = (await attempt(h.activities.syncPages, input, batch, 2)) as SyncBatchResult;
    expect(retry).toEqual({
      pages: 0,
      recordsUpserted: 0,
      recordsDeleted: 0,
      roundComplete: true,
      totals: { pages: 2, recordsUpserted: 3, recordsDeleted: 0 },
    });
    expect(h.connector.fetchCalls).toBe(fetched);
    expect(await committed(ref.integrationId)).toEqual(afterCommit);
    expect(await cachedIds(h, ref.integrationId)).toEqual(['rec-1', 'rec-2', 'rec-3']);

    // The single-page activity keeps the same promise.
    const page = { runId: batch.runId, activityId: '8' };
    h.connector.upsert('rec-4', 'title rec-4');
    const single = await attempt(h.activities.syncPage, { ...ref, resource: 'issues' }, page, 1);
    expect(single).toMatchObject({ recordsUpserted: 1, roundComplete: true });
    const retriedSingle = (await attempt(
      h.activities.syncPage,
      { ...ref, resource: 'issues' },
      page,
      3,
    )) as SyncPageResult;
    expect(retriedSingle).toEqual({ recordsUpserted: 0, recordsDeleted: 0, roundComplete: true });
    expect(h.connector.fetchCalls).toBe(fetched + 1);
    expect(await committed(ref.integrationId)).toMatchObject({ pages: 3, recordsUpserted: 4 });

    // Another activity (the next sync's) is no retry: it fetches the next incremental round.
    h.connector.upsert('rec-5', 'title rec-5');
    const next = (await attempt(
      h.activities.syncPages,
      input,
      { runId: crypto.randomUUID(), activityId: '7' },
      1,
    )) as SyncBatchResult;
    expect(next).toMatchObject({ pages: 1, recordsUpserted: 1, roundComplete: true });
    expect(h.connector.fetchCalls).toBe(fetched + 2);
    expect(await cachedIds(h, ref.integrationId)).toEqual(['rec-1', 'rec-2', 'rec-3', 'rec-4', 'rec-5']);
  });
});
