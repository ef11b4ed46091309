/**
 * A crash at any point loses or duplicates nothing: a worker PROCESS is SIGKILLed in the middle of
 * a 5,000-record sync on the dev server; a second process takes over and finishes. The cache then
 * holds exactly the vendor's record set (count = distinct = expected) and the committed counters
 * add up.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { workflowIds } from '../../workflows/definitions';
import { devServer, uniqueTaskQueue } from '../support/temporal';
import { createHarness, seedConnectedIntegration, type Harness } from './support/harness';
import { recordId } from './support/killableWorker';
import { MEMORY_VENDOR } from '../../dev/memoryConnector';
import { pollUntil } from './support/workflowHelpers';

const RECORDS = 5_000;
const PAGE_SIZE = 100; // MemoryConnector default
const KILL_AFTER_PAGES = 12;

function spawnWorker(taskQueue: string, kek: Buffer): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'support/killableWorker.ts')], {
    env: {
      ...process.env,
      KILL_TASK_QUEUE: taskQueue,
      KILL_RECORDS: String(RECORDS),
      KILL_PAGE_DELAY_MS: '150',
      KILL_KEK: kek.toString('base64'),
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`worker exited before ready (${code})`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
  });
}

describe('worker kill mid-sync (dev server, worker processes, real Postgres)', () => {
  let h: Harness;
  const kek = crypto.randomBytes(32);
  const children: ChildProcess[] = [];
  beforeAll(() => {
    h = createHarness(undefined, kek);
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await h.close();
  });

  it('T11 T13: SIGKILL after 12 committed pages, a second worker finishes: 0 lost, 0 duplicated, counters consistent', async () => {
    const ref = await seedConnectedIntegration(h);
    const server = await devServer();
    const taskQueue = uniqueTaskQueue('worker-kill');
    try {
      const first = await spawnWorker(taskQueue, kek);
      children.push(first);
      const handle = await server.client.workflow.start('syncWorkflow', {
        taskQueue,
        workflowId: workflowIds.sync(ref.workspaceId, ref.integrationId),
        args: [{ ...ref, vendor: MEMORY_VENDOR, request: { reason: 'admin' } }],
      });
      const committedPages = async () =>
        Number((await h.admin('sync_state').where({ integration_id: ref.integrationId }).first('pages'))?.pages ?? 0);
      const atKill = await pollUntil(committedPages, (pages) => pages >= KILL_AFTER_PAGES, 30_000);
      first.kill('SIGKILL');
      await new Promise((resolve) => first.once('exit', resolve));
      expect(atKill).toBeLessThan(RECORDS / PAGE_SIZE);

      children.push(await spawnWorker(taskQueue, kek));
      const progress = await handle.result();
      expect(progress.state).toBe('completed');

      const counts = await h
        .admin('cached_records')
        .where({ integration_id: ref.integrationId })
        .select(h.admin.raw('count(*)::int as rows, count(distinct external_id)::int as ids'))
        .first();
      expect(counts).toEqual({ rows: RECORDS, ids: RECORDS });
      const ids = await h
        .admin('cached_records')
        .where({ integration_id: ref.integrationId })
        .orderBy('external_id')
        .pluck('external_id');
      expect(ids).toEqual(Array.from({ length: RECORDS }, (_, i) => recordId(i)));
      // Every page committed exactly once: the stored counters are the vendor's totals.
      const state = await h.admin('sync_state').where({ integration_id: ref.integrationId }).first();
      expect(state).toMatchObject({
        status: 'idle',
        pages: String(RECORDS / PAGE_SIZE),
        records_upserted: String(RECORDS),
        records_deleted: '0',
      });
      // The workflow's own counters agree with what was committed.
      expect(progress).toMatchObject({ pages: RECORDS / PAGE_SIZE, recordsUpserted: RECORDS, recordsDeleted: 0 });
    } finally {
      await server.close();
    }
  }, 180_000);
});
