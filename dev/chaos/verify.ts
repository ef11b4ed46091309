/**
 * The end of every chaos trial: the cache compared with the vendor's source. `compareRecords` is
 * the pure part (tested on its own); `readOutcome` reads what the service committed: the cached
 * records, the per-resource sync state and the audit chain (`db/audit.ts`'s verification).
 *
 * - lost: a source record the cache does not hold;
 * - duplicated: a second cache row for one id;
 * - cursors consistent: every resource idle (no round left half done) and, after a single sync
 *   run, its committed upserts equal to the records it holds (a page committed twice after a
 *   fault counts twice) and the run's own counters equal to the committed ones. After several
 *   runs the counters add up over them (a listing without a watermark re-upserts each round).
 */
import type { Knex } from 'knex';
import { verifyAuditChain } from '../../db/audit';
import type { GithubEmulator } from '../../emulators/github';

/** `resource` → the ids the vendor holds (or the cache holds). */
export type RecordIds = Record<string, string[]>;

export interface ResourceState {
  resource: string;
  status: string;
  pages: number;
  recordsUpserted: number;
  recordsDeleted: number;
}

/** What the sync run reported (its progress query). */
export interface RunCounters {
  pages: number;
  recordsUpserted: number;
  recordsDeleted: number;
}

export interface Comparison {
  expected: number;
  cached: number;
  lost: number;
  duplicated: number;
  cursorsConsistent: boolean;
  /** Why the cursors are not consistent, if they are not. */
  cursorProblems: string[];
}

const countIds = (ids: RecordIds) => Object.values(ids).reduce((sum, list) => sum + list.length, 0);

export function compareRecords(input: {
  source: RecordIds;
  cached: RecordIds;
  states: ResourceState[];
  /** The run the fault hit; absent when several syncs ran (their counters add up over runs). */
  run?: RunCounters;
}): Comparison {
  let lost = 0;
  let duplicated = 0;
  for (const [resource, ids] of Object.entries(input.source)) {
    const held = new Set(input.cached[resource] ?? []);
    lost += ids.filter((id) => !held.has(id)).length;
  }
  for (const ids of Object.values(input.cached)) duplicated += ids.length - new Set(ids).size;
  const cursorProblems: string[] = [];
  for (const state of input.states) {
    const held = new Set(input.cached[state.resource] ?? []).size;
    if (state.status !== 'idle') cursorProblems.push(`${state.resource}: ${state.status}, not idle`);
    if (input.run && state.recordsUpserted !== held)
      cursorProblems.push(`${state.resource}: ${state.recordsUpserted} upserts committed for ${held} records`);
  }
  const committed = input.states.reduce(
    (sum, state) => ({
      pages: sum.pages + state.pages,
      recordsUpserted: sum.recordsUpserted + state.recordsUpserted,
      recordsDeleted: sum.recordsDeleted + state.recordsDeleted,
    }),
    { pages: 0, recordsUpserted: 0, recordsDeleted: 0 },
  );
  for (const key of ['pages', 'recordsUpserted', 'recordsDeleted'] as const)
    if (input.run && committed[key] !== input.run[key])
      cursorProblems.push(`${key}: the run counted ${input.run[key]}, ${committed[key]} committed`);
  return {
    expected: countIds(input.source),
    cached: countIds(input.cached),
    lost,
    duplicated,
    cursorsConsistent: cursorProblems.length === 0,
    cursorProblems,
  };
}

/** The vendor's source: the installed repositories and their issues (pull requests are not synced). */
export function sourceRecords(github: GithubEmulator, repositories: string[]): RecordIds {
  return {
    repositories: repositories.map((name) => String(github.control.repositoryId(name))),
    issues: repositories.flatMap((name) =>
      github.control
        .issues(name)
        .filter((issue) => issue.pull_request === undefined)
        .map((issue) => String(issue.id)),
    ),
  };
}

export interface CommittedOutcome {
  cached: RecordIds;
  states: ResourceState[];
  auditChainValid: boolean;
  auditEntries: number;
}

/** `admin`: a superuser connection (reads across RLS); `workerDb`: the worker role, as the service verifies its chain. */
export async function readOutcome(
  admin: Knex,
  workerDb: Knex,
  ref: { workspaceId: string; integrationId: string },
): Promise<CommittedOutcome> {
  const rows = await admin('cached_records')
    .where({ workspace_id: ref.workspaceId, integration_id: ref.integrationId })
    .select<Array<{ resource: string; external_id: string }>>('resource', 'external_id');
  const cached: RecordIds = {};
  for (const row of rows) (cached[row.resource] ??= []).push(row.external_id);
  const states = await admin('sync_state')
    .where({ workspace_id: ref.workspaceId, integration_id: ref.integrationId })
    .select<
      Array<{ resource: string; status: string; pages: string; records_upserted: string; records_deleted: string }>
    >('resource', 'status', 'pages', 'records_upserted', 'records_deleted');
  const chain = await verifyAuditChain(workerDb, ref.workspaceId);
  return {
    cached,
    states: states.map((row) => ({
      resource: row.resource,
      status: row.status,
      pages: Number(row.pages),
      recordsUpserted: Number(row.records_upserted),
      recordsDeleted: Number(row.records_deleted),
    })),
    auditChainValid: chain.ok,
    auditEntries: chain.ok ? chain.count : 0,
  };
}
