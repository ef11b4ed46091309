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
 *
 * `BENCH_SOURCE=jira`: the same phases with the Jira emulator as the source, synced through the
 * real connector (jira.js over HTTP, the audited vendor path), budget lifted for the benchmark only
 * (`dev/jiraBenchSource.ts`); pages are Jira's, 100 issues, and the bulk rows are the issues the
 * first sync cached. Either source: the loop phases are profiled (`dev/syncPageProfile.ts`) and the
 * split of a page's time printed.
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createActivities } from '../activities';
import { SYNC_COMMIT_GROUP } from '../activities/integrations/sync';
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
import { memoryDescriptor, MemoryConnector } from '../dev/memoryConnector';
import { JIRA_BENCH_PROJECT, JIRA_PAGE_SIZE, JIRA_WARM_UP_PROJECT, startJiraBenchSource } from '../dev/jiraBenchSource';
import { profileSyncPages } from '../dev/syncPageProfile';
import type { VendorRegistration } from '../activities/vendors/registry';
import { workflowIds } from '../workflows/definitions';
import { PAGES_PER_ACTIVITY, type syncWorkflow } from '../workflows/sync';
import { createWorker } from '../workers/createWorker';

const RECORDS = Number(process.env.BENCH_RECORDS ?? 100_000);
const SOURCE = process.env.BENCH_SOURCE ?? 'memory';
/**
 * Records per vendor page = per activity. Each page is one round trip to Temporal plus one
 * transaction; larger pages amortise the round trip. 1,000 matches the upsert chunk (one INSERT).
 */
const PAGE_SIZE = SOURCE === 'jira' ? JIRA_PAGE_SIZE : Number(process.env.BENCH_PAGE_SIZE ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 2);
/**
 * `BENCH_COMMIT_GROUP=<records>:<ms>`: when `syncPages` commits its fetched pages, instead of
 * SYNC_COMMIT_GROUP (`activities/integrations/sync.ts`); `1:0` commits every page on its own.
 */
const COMMIT_GROUP = process.env.BENCH_COMMIT_GROUP
  ? (([records, ms]) => ({ records: Number(records), ms: Number(ms) }))(process.env.BENCH_COMMIT_GROUP.split(':'))
  : SYNC_COMMIT_GROUP;
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

/** What the phases sync: a connector with its descriptor, and how an integration of it starts. */
interface BenchSource {
  description: string;
  registration: VendorRegistration;
  scopes: string[];
  credential: string;
  /** The measured round (RECORDS records) and the warm-up's (at most WARM_UP_RECORDS). */
  measured: { controls: Record<string, string[]>; cursor: string | null };
  warmUp: { controls: Record<string, string[]>; cursor: string | null; records: number };
  /** The rows the sync caches, for the bulk loads; absent: read back from the first synced integration. */
  rows?: () => Array<{ external_id: string; payload: unknown; version: string }>;
  stop(): Promise<void>;
}

async function startSource(): Promise<BenchSource> {
  const warmUpRecords = Math.min(RECORDS, WARM_UP_RECORDS);
  if (SOURCE === 'jira') {
    const jira = await startJiraBenchSource({ records: RECORDS, warmUp: warmUpRecords });
    return {
      ...jira,
      description: 'Jira emulator (emulators/jira) through the real connector (jira.js over HTTP), budget lifted',
      measured: { controls: { projects: [JIRA_BENCH_PROJECT] }, cursor: null },
      warmUp: { controls: { projects: [JIRA_WARM_UP_PROJECT] }, cursor: null, records: warmUpRecords },
    };
  }
  if (SOURCE !== 'memory') throw new Error(`BENCH_SOURCE must be memory or jira, not ${SOURCE}`);
  const source = new MemoryConnector(PAGE_SIZE);
  for (let i = 0; i < RECORDS; i++) source.upsert(`rec-${String(i).padStart(7, '0')}`, `title ${i}`);
  return {
    description: 'in-memory connector (dev/memoryConnector.ts), delta of RECORDS upserts',
    registration: { descriptor: memoryDescriptor, connector: source },
    scopes: ['repo:read'],
    credential: JSON.stringify({ accessToken: 'bench', grantedScopes: ['repo:read'] }),
    measured: { controls: {}, cursor: 'delta:0' },
    warmUp: { controls: {}, cursor: `delta:${RECORDS - warmUpRecords}`, records: warmUpRecords },
    rows: () =>
      [...source.records].map(([id, record]) => ({
        external_id: id,
        payload: { title: record.title },
        version: String(record.seq),
      })),
    stop: () => Promise.resolve(),
  };
}

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
  print(`Starting the ${SOURCE} source with ${RECORDS.toLocaleString()} records…`);
  const source = await startSource();
  try {
    const secrets = new SecretStore(db, new LocalKeyProvider([crypto.randomBytes(32)]));
    const timed = profileSyncPages(db, createAuditLog(db), source.registration.connector);
    const activities = createActivities({
      db,
      logger: createLogger({ level: 'silent', name: 'bench' }),
      integrations: {
        secrets,
        audit: timed.audit,
        vendors: createConnectorRegistry([{ ...source.registration, connector: timed.connector }]),
        webhookBaseUrl: 'https://integrations.bench',
        syncCommitGroup: COMMIT_GROUP,
      },
    });
    const vendor = source.registration.descriptor.id;
    const taskQueue = `bench-sync-${crypto.randomUUID()}`;
    print('Bundling workflows and starting the worker…');
    const worker = await createWorker({ connection, namespace: 'default', taskQueue, activities });
    const workerRun = worker.run();

    /** A connected integration of the source whose cursor sits where `start` says (null: never synced). */
    const seedIntegration = async (start: BenchSource['measured'] = source.measured) => {
      const ref = { workspaceId: crypto.randomUUID(), integrationId: crypto.randomUUID() };
      await superuser('workspaces').insert({ workspace_id: ref.workspaceId });
      await superuser('integrations').insert({
        integration_id: ref.integrationId,
        workspace_id: ref.workspaceId,
        vendor,
        status: 'connected',
        requested_scopes: source.scopes,
        granted_scopes: source.scopes,
        controls: JSON.stringify(start.controls),
      });
      await secrets.put({ ...ref, kind: 'oauth-tokens', state: 'current', plaintext: source.credential });
      if (start.cursor !== null)
        await superuser('sync_state').insert({
          workspace_id: ref.workspaceId,
          integration_id: ref.integrationId,
          resource: 'issues',
          cursor: start.cursor,
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
    /** The rows of the bulk loads: the source's, or those the first measured sync cached. */
    let bulkRows = source.rows?.();
    const readCachedRows = async (integrationId: string) => {
      bulkRows ??= await superuser('cached_records')
        .where({ integration_id: integrationId })
        .select('external_id', 'payload', 'version');
    };
    const runInsert = async (mode: 'bulk' | 'pages') => {
      const ref = await seedIntegration();
      const rows = bulkRows!;
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
    const pageSplits: Array<ReturnType<typeof timed.profile.stop>> = [];
    const runLoop = async () => {
      const ref = await seedIntegration();
      let pages = 0;
      timed.profile.start();
      const started = performance.now();
      for (;;) {
        const batch = await activities.syncPages({ ...ref, resource: 'issues', maxPages: PAGES_PER_ACTIVITY });
        pages += batch.pages;
        if (batch.roundComplete) break;
      }
      const seconds = (performance.now() - started) / 1000;
      pageSplits.push(timed.profile.stop(pages));
      if ((await cachedCount(ref.integrationId)) !== RECORDS) throw new Error('loop mode did not cache every record');
      await readCachedRows(ref.integrationId);
      phases.push({ mode: 'loop', seconds, recordsPerS: RECORDS / seconds });
    };
    const runWorkflow = async (start: BenchSource['measured'] = source.measured, expected = RECORDS) => {
      const ref = await seedIntegration(start);
      const workflowId = workflowIds.sync(ref.workspaceId, ref.integrationId);
      const rss = sampleRss();
      const started = performance.now();
      const progress = await client.workflow.execute<typeof syncWorkflow>('syncWorkflow', {
        taskQueue,
        workflowId,
        args: [{ ...ref, vendor, request: { reason: 'admin', resource: 'issues' } }],
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
      `Warm-up, then ${ROUNDS} rounds of loop/workflow, ${RECORDS.toLocaleString()} records each, ${PAGE_SIZE} per page, committed at ${COMMIT_GROUP.records} records or ${COMMIT_GROUP.ms} ms…`,
    );
    await runWorkflow(source.warmUp, source.warmUp.records);
    phases.length = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // The loop first: without rows of its own, the source's bulk rows are what it cached.
      await runLoop();
      await runInsert('bulk');
      await runInsert('pages');
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
      source: source.description,
      records: RECORDS,
      pageSize: PAGE_SIZE,
      pagesPerActivity: PAGES_PER_ACTIVITY,
      commitGroup: COMMIT_GROUP,
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
      /** The loop phases' page, step by step (mean over the rounds). */
      pageSplit: meanSplit(pageSplits),
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
    print();
    print(`one page of the loop (${PAGE_SIZE} records), mean over ${ROUNDS} rounds:`);
    for (const { step, msPerPage, fraction } of result.pageSplit)
      print(
        `  ${step.padEnd(46)} ${msPerPage.toFixed(2).padStart(8)} ms  ${(fraction * 100).toFixed(1).padStart(5)} %`,
      );
    const outDir = path.join(REPO_ROOT, 'bench-results');
    fs.mkdirSync(outDir, { recursive: true });
    const outFile = path.join(outDir, SOURCE === 'memory' ? 'sync.json' : `sync-${SOURCE}.json`);
    fs.writeFileSync(outFile, `${JSON.stringify(result, null, 2)}\n`);
    print(`wrote ${outFile}`);
  } finally {
    await clientConnection.close();
    await connection.close();
    await db.destroy();
    await superuser.destroy();
    await stack.stop();
    await source.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

/** The steps of several profiled loops, each step's ms per page and share of the time averaged. */
function meanSplit(splits: Array<Array<{ step: string; msPerPage: number; fraction: number }>>) {
  const steps = [...new Set(splits.flatMap((split) => split.map((row) => row.step)))];
  const mean = (step: string, field: 'msPerPage' | 'fraction') =>
    splits.reduce((sum, split) => sum + (split.find((row) => row.step === step)?.[field] ?? 0), 0) / splits.length;
  return steps.map((step) => ({
    step,
    msPerPage: Number(mean(step, 'msPerPage').toFixed(2)),
    fraction: Number(mean(step, 'fraction').toFixed(3)),
  }));
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
