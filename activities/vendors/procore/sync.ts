/**
 * Incremental reads of the selected projects (T11, T18). Each resource has its own cursor: a round
 * walks the selected projects one page at a time (`page`/`per_page`, following `Link: rel="next"`),
 * and incremental rounds ask only for what changed, with Procore's `filters[updated_at]` range
 * from the newest `updated_at` seen (minus an overlap for write lag and clock skew) to this round's
 * start; items re-read inside the overlap with the same `updated_at` are dropped (the shared
 * watermark). The watermark moves only when a round completes, so a failed round re-reads.
 */
import { VendorError, VendorFailureType } from '../errors';
import { EMPTY_WATERMARK, advanceWatermark, isFresh, queryStartMs, type UpdatedWatermark } from '../shared';
import type { SourceRecord, SyncPage } from '../types';
import { nextLink, type ProcoreApi } from './client';
import type { ProcoreResource } from './descriptor';

const VENDOR = 'procore';
/** Procore's default page size; the lists take up to this many. */
export const PAGE_SIZE = 100;
const SINCE_OVERLAP_MS = 5 * 60_000;

type Json = Record<string, unknown>;

interface Listing {
  path: string;
  /** Only what a linked record needs (T14): no descriptions, assignees or people. */
  fields: readonly string[];
}

/** The list endpoint of each per-project resource. */
const LISTINGS: Record<Exclude<ProcoreResource, 'projects'>, Listing> = {
  rfis: {
    path: '/projects/{project_id}/rfis',
    fields: ['id', 'number', 'subject', 'status', 'due_date', 'created_at', 'updated_at'],
  },
  drawings: {
    path: '/projects/{project_id}/drawings',
    fields: ['id', 'number', 'title', 'discipline', 'revision_number', 'created_at', 'updated_at'],
  },
  'daily-logs': {
    path: '/projects/{project_id}/daily_logs/notes_logs',
    fields: ['id', 'date', 'created_at', 'updated_at'],
  },
};
const PROJECT_FIELDS = ['id', 'name', 'display_name', 'project_number', 'active', 'created_at', 'updated_at'];

export interface ResourceCursor {
  watermark: UpdatedWatermark;
  round?: {
    projects: string[];
    index: number;
    page: number;
    startedAtMs: number;
    sinceMs?: number;
    /** Items seen this round within the overlap of the newest: what the watermark will hold. */
    seen: Array<{ id: string; updatedMs: number }>;
  };
}

const pick = (item: Json, fields: readonly string[]) =>
  Object.fromEntries(fields.filter((field) => field in item).map((field) => [field, item[field]]));

/** Procore's range takes whole seconds, both ends inclusive: the window only ever widens to them. */
const isoSeconds = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const updatedRange = (fromMs: number, toMs: number) =>
  `${isoSeconds(Math.floor(fromMs / 1000) * 1000)}...${isoSeconds(Math.ceil(toMs / 1000) * 1000)}`;

function record(resource: ProcoreResource, projectId: string, item: Json, fields: readonly string[]): SourceRecord {
  if (typeof item.id !== 'number' && typeof item.id !== 'string')
    throw new VendorError(VendorFailureType.VendorRejected, VENDOR, `a ${resource} item without an id`);
  return {
    resource,
    externalId: String(item.id),
    version: typeof item.updated_at === 'string' ? item.updated_at : undefined,
    payload: { ...pick(item, fields), project_id: Number(projectId) },
  };
}

/** One page of `resource` for the round the cursor holds (a new round when there is none or the selection changed). */
export async function fetchResourcePage(input: {
  api: ProcoreApi;
  resource: ProcoreResource;
  projects: string[];
  companyId: string;
  cursorText: string | null;
  now: number;
}): Promise<SyncPage> {
  const cursor: ResourceCursor = input.cursorText
    ? (JSON.parse(input.cursorText) as ResourceCursor)
    : { watermark: EMPTY_WATERMARK };
  if (!cursor.round || cursor.round.projects.join(',') !== input.projects.join(',')) {
    cursor.round = {
      projects: input.projects,
      index: 0,
      page: 1,
      startedAtMs: input.now,
      sinceMs: queryStartMs(cursor.watermark, SINCE_OVERLAP_MS),
      seen: [],
    };
  }
  const round = cursor.round;
  const { records, hasNext } = await readPage(input, round);
  const seen = records.map((r) => ({ id: r.externalId, updatedMs: Date.parse(r.version ?? '') }));
  const fresh = records.filter((r, i) => isFresh(cursor.watermark, r.externalId, seen[i]!.updatedMs));
  const pending = [...round.seen, ...seen.filter((item) => Number.isFinite(item.updatedMs))];
  const newest = Math.max(...pending.map((item) => item.updatedMs));
  round.seen = pending.filter((item) => item.updatedMs >= newest - SINCE_OVERLAP_MS);
  if (hasNext) round.page += 1;
  else Object.assign(round, { index: round.index + 1, page: 1 });
  if (round.index < round.projects.length)
    return { records: fresh, deletedExternalIds: [], nextCursor: JSON.stringify(cursor), roundComplete: false };
  const done: ResourceCursor = { watermark: advanceWatermark(cursor.watermark, round.seen, SINCE_OVERLAP_MS) };
  return { records: fresh, deletedExternalIds: [], nextCursor: JSON.stringify(done), roundComplete: true };
}

async function readPage(
  input: { api: ProcoreApi; resource: ProcoreResource; companyId: string },
  round: NonNullable<ResourceCursor['round']>,
): Promise<{ records: SourceRecord[]; hasNext: boolean }> {
  const projectId = round.projects[round.index]!;
  if (input.resource === 'projects') {
    const { body } = await input.api.get<Json>(
      '/projects/{project_id}',
      { project_id: projectId },
      { company_id: input.companyId },
    );
    return { records: [record('projects', projectId, body, PROJECT_FIELDS)], hasNext: false };
  }
  const listing = LISTINGS[input.resource];
  const { body, headers } = await input.api.get<Json[]>(
    listing.path,
    { project_id: projectId },
    {
      page: round.page,
      per_page: PAGE_SIZE,
      ...(round.sinceMs === undefined
        ? {}
        : { filters: { updated_at: updatedRange(round.sinceMs, round.startedAtMs) } }),
    },
  );
  if (!Array.isArray(body)) throw new VendorError(VendorFailureType.VendorRejected, VENDOR, 'a list was expected');
  return {
    records: body.map((item) => record(input.resource, projectId, item, listing.fields)),
    hasNext: nextLink(headers.get('link')) !== undefined && body.length > 0,
  };
}
