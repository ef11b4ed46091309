/**
 * `npm run bench:sync`: what the durable workflows cost on a large incremental sync.
 *
 * One run, one throwaway stack (Temporal dev server + embedded Postgres on free ports). The vendor
 * source is the in-memory connector of the workflow tests (`dev/memoryConnector`)
 * holding RECORDS changes since an integration's delta cursor: the GitHub emulator is not used
 * because the GitHub connector and descriptor budget 60 requests per minute (a quarter of
 * GitHub's limit), which would measure the throttle, not the workflows.
 *
 * Two modes over the same source, the same activities and the same Postgres, alternating so drift
 * in machine load hits both:
 *   - workflow: `syncWorkflow` on the dev server, executed by an in-process worker;
 *   - loop: the same `syncPages` activity (same batch size) called in a plain `for` loop (no Temporal).
 * Each phase syncs a fresh integration from `delta:0`, i.e. RECORDS upserts. Reports records/s of
 * both, the ratio, and history events per 1,000 records; writes `bench-results/sync.json`.
 * Targets: ratio ≥ 0.9 and ≥ 20,000 records/s.
 *
 * In the same run, two loads of the same rows into `cached_records` of a fresh integration, with no
 * vendor call, audit, cursor or Temporal: `bulk`, plain INSERTs of BULK_CHUNK rows in one transaction
 * (what this Postgres takes at most; the sync's fraction of it), and `pages`, the sync's own
 * statement (ON CONFLICT) in one transaction per page, which splits the gap into what the per-page
 * commits cost and what the rest of the activity costs (vendor call, audit, cursor, status check).
 * Also the most history events in one run of the continue-as-new chain (limit 10,240) and the
 * process's resident memory during the workflow phases (sampled every second).
 * `BENCH_RECORDS=1000000 BENCH_ROUNDS=1` is the million-record sync.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities';
import { createConnectorRegistry } from '../activities/vendors/registry';
import { createAuditLog } from '../db/audit';
import { createOwnerDb, createRuntimeDb } from '../db/knex';
import { withWorkspace } from '../db/workspaceScope';
import type { Knex } from 'knex';
import { LocalKeyProvider, SecretStore } from '../db/secrets';
import { REPO_ROOT } from '../lib/config';
import { freePort } from '../dev/processes';
import { startStack } from '../dev/stack';
import { sampleRss } from '../dev/benchFigures';
import { createLogger } from '../lib/logger';
import { MEMORY_VENDOR, memoryDescriptor, MemoryConnector } from '../dev/memoryConnector';
import { workflowIds } from '../workflows/definitions';
import { PAGES_PER_ACTIVITY, type syncWorkflow } from '../workflows/sync';
import { createWorker } from '../workers/createWorker';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
/**
 * Records per vendor page = per activity. Each page is one round trip to Temporal plus one
 * transaction; larger pages amortise the round trip. 1,000 matches the upsert chunk (one INSERT).
 */
const PAGE_SIZE = Number(process.env.BENCH_PAGE_SIZE ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
/** The warm-up syncs at most this many records (the tail of the change log). */
const WARM_UP_RECORDS = 10_000;
/** Rows per statement of the bulk load: ten of the sync's pages at once. */
const BULK_CHUNK = 10_000;
/** What the sync's statement adds to a plain INSERT (`activities/integrations/sync.ts`). */
const ON_CONFLICT_AS_THE_SYNC = `ON CONFLICT (workspace_id, integration_id, resource, external_id)
  DO UPDATE SET payload = EXCLUDED.payload, version = EXCLUDED.version, fetched_at = EXCLUDED.fetched_at, expires_at = EXCLUDED.expires_at`;
/** Temporal's history warning (events per run). */
const HISTORY_EVENTS_LIMIT = 10_240;
const TARGET_RATIO = 0.9;
const TARGET_RECORDS_PER_S = 20_000;

const print = (line = '') => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-sync-'));
  print(`Starting Temporal dev server + Postgres in ${dataDir}…`);
  const stack = await startStack({
    dataDir,
    persistent: false,
    temporal: { port: await freePort(), namespace: 'default' },
    postgres: { port: await freePort() },
    log: () => undefined,
  });
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const db = createRuntimeDb(stack.database!.appUrl, 'worker', 10);
  const superuser = createOwnerDb(
    Object.assign(new URL(stack.database!.superuserUrl), { pathname: '/integrations' }).toString(),
  );
  const connection = await NativeConnection.connect({ address: stack.temporalAddress! });
  const clientConnection = await Connection.connect({ address: stack.temporalAddress! });
  const client = new Client({ connection: clientConnection, namespace: 'default' });
  try {
    const source = new MemoryConnector(PAGE_SIZE);
    for (let i = 0; i < RECORDS; i++) source.upsert(`rec-${String(i).padStart(7, '0')}`, `title ${i}`);
    const secrets = new SecretStore(db, new LocalKeyProvider([crypto.randomBytes(32)]));
    const activities = createActivities({
      db,
      logger: createLogger({ level: 'silent', name: 'bench' }),
      integrations: {
        secrets,
        audit: createAuditLog(db),
        vendors: createConnectorRegistry([{ descriptor: memoryDescriptor, connector: source }]),
        webhookBaseUrl: 'https://integrations.bench',
      },
    });
    const taskQueue = `bench-sync-${crypto.randomUUID()}`;
    print('Bundling workflows and starting the worker…');
    const worker = await createWorker({ connection, namespace: 'default', taskQueue, activities });
    const workerRun = worker.run();

    /** A connected integration whose cursor sits at the start of the source's change log. */
    const seedIntegration = async (cursor = 'delta:0') => {
      const ref = { workspaceId: crypto.randomUUID(), integrationId: crypto.randomUUID() };
      await superuser('workspaces').insert({ workspace_id: ref.workspaceId });
      await superuser('integrations').insert({
        integration_id: ref.integrationId,
        workspace_id: ref.workspaceId,
        vendor: MEMORY_VENDOR,
        status: 'connected',
        requested_scopes: ['repo:read'],
        granted_scopes: ['repo:read'],
      });
      await secrets.put({
        ...ref,
        kind: 'oauth-tokens',
        state: 'current',
        plaintext: JSON.stringify({ accessToken: 'bench', grantedScopes: ['repo:read'] }),
      });
      await superuser('sync_state').insert({
        workspace_id: ref.workspaceId,
        integration_id: ref.integrationId,
        resource: 'issues',
        cursor,
        status: 'idle',
      });
      return ref;
    };
    const cachedCount = async (integrationId: string) =>
      Number((await superuser('cached_records').where({ integration_id: integrationId }).count().first())!.count);

    const phases: Array<{
      mode: 'loop' | 'workflow' | 'bulk' | 'pages';
      seconds: number;
      recordsPerS: number;
      historyEvents?: number;
      maxHistoryEventsPerRun?: number;
      runs?: number;
      rssMiB?: { start: number; max: number; end: number };
    }> = [];
    /**
     * The same rows the sync writes, with no vendor call, audit, cursor or Temporal. `bulk`: big
     * statements in one transaction, the physical limit here. `pages`: the sync's own statement
     * (ON CONFLICT) in one transaction per page, what the page size and per-page commit alone cost.
     */
    const runInsert = async (mode: 'bulk' | 'pages') => {
      const ref = await seedIntegration();
      const rows = [...source.records].map(([id, record]) => ({
        external_id: id,
        payload: { title: record.title },
        version: String(record.seq),
      }));
      const insert = (trx: Knex.Transaction, chunk: typeof rows) =>
        trx.raw(
          `INSERT INTO cached_records (workspace_id, integration_id, resource, external_id, payload, version, fetched_at, expires_at)
           SELECT ?, ?, 'issues', r.external_id, r.payload, r.version, now(), now() + interval '1 day'
           FROM jsonb_to_recordset(?::jsonb) AS r(external_id text, payload jsonb, version text)
           ${mode === 'pages' ? ON_CONFLICT_AS_THE_SYNC : ''}`,
          [ref.workspaceId, ref.integrationId, JSON.stringify(chunk)],
        );
      const started = performance.now();
      if (mode === 'bulk')
        await withWorkspace(db, ref.workspaceId, async (trx) => {
          for (let start = 0; start < rows.length; start += BULK_CHUNK)
            await insert(trx, rows.slice(start, start + BULK_CHUNK));
        });
      else
        for (let start = 0; start < rows.length; start += PAGE_SIZE)
          await withWorkspace(db, ref.workspaceId, (trx) => insert(trx, rows.slice(start, start + PAGE_SIZE)));
      const seconds = (performance.now() - started) / 1000;
      if ((await cachedCount(ref.integrationId)) !== RECORDS)
        throw new Error(`${mode} mode did not insert every record`);
      phases.push({ mode, seconds, recordsPerS: RECORDS / seconds });
    };
    const runLoop = async () => {
      const ref = await seedIntegration();
      const started = performance.now();
      for (;;) {
        const batch = await activities.syncPages({ ...ref, resource: 'issues', maxPages: PAGES_PER_ACTIVITY });
        if (batch.roundComplete) break;
      }
      const seconds = (performance.now() - started) / 1000;
      if ((await cachedCount(ref.integrationId)) !== RECORDS) throw new Error('loop mode did not cache every record');
      phases.push({ mode: 'loop', seconds, recordsPerS: RECORDS / seconds });
    };
    const runWorkflow = async (cursor = 'delta:0') => {
      const ref = await seedIntegration(cursor);
      const expected = RECORDS - Number(cursor.slice('delta:'.length));
      const workflowId = workflowIds.sync(ref.workspaceId, ref.integrationId);
      const rss = sampleRss();
      const started = performance.now();
      const progress = await client.workflow.execute<typeof syncWorkflow>('syncWorkflow', {
        taskQueue,
        workflowId,
        args: [{ ...ref, vendor: MEMORY_VENDOR, request: { reason: 'admin', resource: 'issues' } }],
      });
      const seconds = (performance.now() - started) / 1000;
      const rssMiB = rss.stop();
      if (progress.recordsUpserted !== expected || (await cachedCount(ref.integrationId)) !== expected)
        throw new Error('workflow mode did not cache every record');
      // Every run of the chain (continue-as-new) counts.
      let historyEvents = 0;
      let maxHistoryEventsPerRun = 0;
      let runs = 0;
      let runId: string | undefined = (await client.workflow.getHandle(workflowId).describe()).runId;
      while (runId) {
        const events: temporal.api.history.v1.IHistoryEvent[] =
          (await client.workflow.getHandle(workflowId, runId).fetchHistory()).events ?? [];
        historyEvents += events.length;
        maxHistoryEventsPerRun = Math.max(maxHistoryEventsPerRun, events.length);
        runs += 1;
        runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined;
      }
      phases.push({
        mode: 'workflow',
        seconds,
        recordsPerS: expected / seconds,
        historyEvents,
        maxHistoryEventsPerRun,
        runs,
        rssMiB,
      });
    };

    print(
      `Warm-up, then ${ROUNDS} rounds of loop/workflow, ${RECORDS.toLocaleString()} records each, ${PAGE_SIZE} per page…`,
    );
    await runWorkflow(`delta:${Math.max(0, RECORDS - WARM_UP_RECORDS)}`);
    phases.length = 0;
    for (let round = 0; round < ROUNDS; round++) {
      await runInsert('bulk');
      await runInsert('pages');
      await runLoop();
      await runWorkflow();
    }
    await Promise.resolve(worker.shutdown());
    await workerRun;

    const rate = (mode: 'loop' | 'workflow' | 'bulk' | 'pages') => {
      const runs = phases.filter((p) => p.mode === mode);
      return (runs.length * RECORDS) / runs.reduce((sum, p) => sum + p.seconds, 0);
    };
    const loopRate = rate('loop');
    const workflowRate = rate('workflow');
    const bulkRate = rate('bulk');
    const pagesRate = rate('pages');
    const workflowPhases = phases.filter((p) => p.mode === 'workflow');
    const eventsPer1000 =
      (workflowPhases.reduce((sum, p) => sum + p.historyEvents!, 0) / (workflowPhases.length * RECORDS)) * 1000;
    const result = {
      measuredAt: new Date().toISOString(),
      machine: { cpus: os.cpus().length, node: process.version },
      source: 'in-memory connector (dev/memoryConnector.ts), delta of RECORDS upserts',
      records: RECORDS,
      pageSize: PAGE_SIZE,
      pagesPerActivity: PAGES_PER_ACTIVITY,
      rounds: ROUNDS,
      loopRecordsPerS: Math.round(loopRate),
      workflowRecordsPerS: Math.round(workflowRate),
      ratio: Number((workflowRate / loopRate).toFixed(3)),
      bulkRecordsPerS: Math.round(bulkRate),
      fractionOfBulk: Number((workflowRate / bulkRate).toFixed(3)),
      pagesRecordsPerS: Math.round(pagesRate),
      loopFractionOfPages: Number((loopRate / pagesRate).toFixed(3)),
      maxHistoryEventsPerRun: Math.max(...workflowPhases.map((p) => p.maxHistoryEventsPerRun!)),
      historyEventsLimit: HISTORY_EVENTS_LIMIT,
      rssMiB: {
        start: Math.min(...workflowPhases.map((p) => p.rssMiB!.start)),
        max: Math.max(...workflowPhases.map((p) => p.rssMiB!.max)),
        end: workflowPhases.at(-1)!.rssMiB!.end,
      },
      loadAverage: os.loadavg().map((l) => Number(l.toFixed(2))),
      historyEventsPer1000Records: Number(eventsPer1000.toFixed(2)),
      targets: { ratio: TARGET_RATIO, recordsPerS: TARGET_RECORDS_PER_S },
      phases: phases.map((p) => ({
        ...p,
        seconds: Number(p.seconds.toFixed(2)),
        recordsPerS: Math.round(p.recordsPerS),
      })),
    };
    print();
    for (const p of result.phases)
      print(
        `  ${p.mode.padEnd(8)} ${p.seconds.toFixed(2).padStart(7)} s  ${String(p.recordsPerS).padStart(7)} records/s${p.historyEvents ? `  ${p.historyEvents} history events` : ''}`,
      );
    print();
    print(`loop      ${result.loopRecordsPerS} records/s`);
    print(`workflow  ${result.workflowRecordsPerS} records/s`);
    print(
      `ratio     ${result.ratio} (target ≥ ${TARGET_RATIO})   history events per 1,000 records: ${result.historyEventsPer1000Records}`,
    );
    print(
      `bulk      ${result.bulkRecordsPerS} records/s (same rows, ${BULK_CHUNK} per statement, one transaction); sync's fraction of it: ${result.fractionOfBulk}`,
    );
    print(
      `pages     ${result.pagesRecordsPerS} records/s (the sync's statement, one transaction per ${PAGE_SIZE}-record page); the loop's fraction of it: ${result.loopFractionOfPages} (the rest: vendor call, audit, cursor, status check)`,
    );
    print(
      `history   at most ${result.maxHistoryEventsPerRun} events in one run (limit ${HISTORY_EVENTS_LIMIT}); resident memory ${result.rssMiB.start} → max ${result.rssMiB.max} → ${result.rssMiB.end} MiB; load ${result.loadAverage.join(' ')}`,
    );
    print(
      `target ≥ ${TARGET_RECORDS_PER_S} records/s: ${workflowRate >= TARGET_RECORDS_PER_S ? 'met' : 'NOT met'}; ratio: ${result.ratio >= TARGET_RATIO ? 'met' : 'NOT met'}`,
    );
    const outDir = path.join(REPO_ROOT, 'bench-results');
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(path.join(outDir, 'sync.json'), `${JSON.stringify(result, null, 2)}\n`);
    print(`wrote ${path.join(outDir, 'sync.json')}`);
  } finally {
    await clientConnection.close();
    await connection.close();
    await db.destroy();
    await superuser.destroy();
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
