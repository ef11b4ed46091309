/**
 * Reads of the selected projects (T11, T18), one page per call, each resource with its own cursor.
 * A round walks the selected projects in order:
 * - `projects`: the project itself (Data Management `GET /project/v1/hubs/{hub}/projects/{project}`);
 * - `documents` (ACC) and `folder-tree` (Docs): the folder tree from the project's top folders down,
 *   `folders/{id}/contents` one page at a time (`page[number]`, following `links.next`); documents
 *   are classified as BIM models, drawings or sheets; Docs also keeps the folders;
 * - `issues` (ACC): `limit`/`offset` pages, and after the first round only what changed, with
 *   `filter[updatedAt]` from the newest `updatedAt` seen (minus an overlap) to the round's start;
 * - `facilities` and `assets` (Tandem): the selected facilities, then each facility's models one
 *   scan at a time (`tandem.ts`).
 * Unchanged documents are skipped by their version (`lastModifiedTime`) when the cache upserts.
 * The watermark moves only when a round completes, so a failed round re-reads.
 */
import { VendorError, VendorFailureType } from '../errors';
import { EMPTY_WATERMARK, advanceWatermark, isFresh, queryStartMs, type UpdatedWatermark } from '../shared';
import type { SourceRecord, SyncPage } from '../types';
import { productProjectId, type ApsRest, type dataManagementClient, type issuesClient } from './client';
import type { AutodeskResource } from './descriptor';
import { VENDOR } from './errors';
import { readFacility, scanAssets } from './tandem';

/** Data Management's largest page; Issues take up to 200 as well. */
export const PAGE_LIMIT = 200;
const SINCE_OVERLAP_MS = 5 * 60_000;

type Json = Record<string, unknown>;
interface JsonApiEntry {
  type?: string;
  id?: string;
  attributes?: { name?: string; displayName?: string; lastModifiedTime?: string; extension?: { type?: string } };
}

interface Round {
  projects: string[];
  index: number;
  startedAtMs: number;
  sinceMs?: number;
  /** Issues: the next offset. */
  offset: number;
  /** Folder walk: folders still to read (the head is being paged), and whether the roots were listed. */
  queue: string[];
  rootsListed: boolean;
  page: number;
  seen: Array<{ id: string; updatedMs: number }>;
}

interface Cursor {
  watermark: UpdatedWatermark;
  round?: Round;
}

export interface SyncInput {
  dm: ReturnType<typeof dataManagementClient>;
  issues: ReturnType<typeof issuesClient>;
  rest: ApsRest;
  accessToken: string;
  hubId: string;
  resource: AutodeskResource;
  projects: string[];
  cursorText: string | null;
  now: number;
}

interface Step {
  records: SourceRecord[];
  /** The current project has more to read. */
  more: boolean;
}

const BIM = /\.(rvt|rfa|nwd|nwc|ifc|dwf|dwfx)$/i;
const DRAWING = /\.(dwg|dxf|pdf)$/i;

/** What a document is for the matrix's data in: ACC sheets are `Document` items, models and drawings by extension. */
function documentKind(entry: JsonApiEntry): 'bim' | 'drawing' | 'sheet' | 'file' {
  if (entry.attributes?.extension?.type === 'items:autodesk.bim360:Document') return 'sheet';
  const name = entry.attributes?.displayName ?? '';
  return BIM.test(name) ? 'bim' : DRAWING.test(name) ? 'drawing' : 'file';
}

function entryRecord(resource: AutodeskResource, projectId: string, parent: string | null, entry: JsonApiEntry) {
  if (typeof entry.id !== 'string')
    throw new VendorError(VendorFailureType.VendorRejected, VENDOR, 'a folder entry without an id');
  const attributes = entry.attributes ?? {};
  return {
    resource,
    externalId: entry.id,
    version: attributes.lastModifiedTime,
    payload: {
      type: entry.type === 'folders' ? 'folder' : documentKind(entry),
      name: attributes.displayName ?? attributes.name,
      projectId,
      parentFolderId: parent,
      lastModifiedTime: attributes.lastModifiedTime,
    },
  } satisfies SourceRecord;
}

/** `page[number]` of a JSON:API `links.next`, when there is one. */
function nextPageNumber(links: unknown): number | undefined {
  const href = (links as { next?: { href?: unknown } } | undefined)?.next?.href;
  if (typeof href !== 'string') return undefined;
  const page = Number(new URL(href, 'https://aps.invalid').searchParams.get('page[number]'));
  return Number.isInteger(page) && page > 0 ? page : undefined;
}

async function projectStep(input: SyncInput, projectId: string): Promise<Step> {
  const project = (await input.dm.getProject(input.hubId, projectId, { accessToken: input.accessToken })) as {
    data?: JsonApiEntry;
  };
  const attributes = project.data?.attributes ?? {};
  return {
    records: [
      {
        resource: 'projects',
        externalId: projectId,
        payload: { name: attributes.name, hubId: input.hubId },
      },
    ],
    more: false,
  };
}

async function folderStep(input: SyncInput, projectId: string, round: Round, withFolders: boolean): Promise<Step> {
  const keep = (entry: JsonApiEntry) => withFolders || entry.type === 'items';
  if (!round.rootsListed) {
    const top = (await input.dm.getProjectTopFolders(input.hubId, projectId, { accessToken: input.accessToken })) as {
      data?: JsonApiEntry[];
    };
    const roots = (top.data ?? []).filter((entry) => entry.type === 'folders' && typeof entry.id === 'string');
    Object.assign(round, { rootsListed: true, queue: roots.map((entry) => entry.id!), page: 0 });
    return {
      records: roots.filter(keep).map((entry) => entryRecord(input.resource, projectId, null, entry)),
      more: roots.length > 0,
    };
  }
  const folderId = round.queue[0]!;
  const contents = (await input.dm.getFolderContents(projectId, folderId, {
    accessToken: input.accessToken,
    pageNumber: round.page,
    pageLimit: PAGE_LIMIT,
  })) as { data?: JsonApiEntry[]; links?: unknown };
  const entries = contents.data ?? [];
  round.queue.push(...entries.filter((e) => e.type === 'folders' && typeof e.id === 'string').map((e) => e.id!));
  const next = entries.length > 0 ? nextPageNumber(contents.links) : undefined;
  if (next !== undefined) round.page = next;
  else Object.assign(round, { queue: round.queue.slice(1), page: 0 });
  return {
    records: entries.filter(keep).map((entry) => entryRecord(input.resource, projectId, folderId, entry)),
    more: round.queue.length > 0,
  };
}

const ISSUE_FIELDS = ['displayId', 'title', 'status', 'issueTypeId', 'dueDate', 'createdAt', 'updatedAt'] as const;

/** APS date ranges: `<from>..<to>`. */
const updatedRange = (fromMs: number, toMs: number) =>
  `${new Date(fromMs).toISOString()}..${new Date(toMs).toISOString()}`;

async function issueStep(input: SyncInput, projectId: string, round: Round): Promise<Step> {
  const page = (await input.issues.getIssues(productProjectId(projectId), {
    accessToken: input.accessToken,
    limit: PAGE_LIMIT,
    offset: round.offset,
    ...(round.sinceMs === undefined ? {} : { filterUpdatedAt: updatedRange(round.sinceMs, round.startedAtMs) }),
  })) as { results?: Json[]; pagination?: { totalResults?: number } };
  const results = page.results ?? [];
  const records = results.map((issue) => {
    if (typeof issue.id !== 'string')
      throw new VendorError(VendorFailureType.VendorRejected, VENDOR, 'an issue without an id');
    // Only what a linked record needs (T14): no descriptions, assignees or people.
    const payload = Object.fromEntries(ISSUE_FIELDS.filter((f) => f in issue).map((f) => [f, issue[f]]));
    return {
      resource: 'issues',
      externalId: issue.id,
      version: typeof issue.updatedAt === 'string' ? issue.updatedAt : undefined,
      payload: { ...payload, projectId },
    } satisfies SourceRecord;
  });
  round.offset += results.length;
  const total = page.pagination?.totalResults ?? 0;
  return { records, more: results.length > 0 && round.offset < total };
}

async function facilityStep(input: SyncInput, facilityId: string): Promise<Step> {
  const facility = await readFacility(input.rest, facilityId);
  return {
    records: [
      { resource: 'facilities', externalId: facilityId, payload: { name: facility.name, models: facility.models } },
    ],
    more: false,
  };
}

/** The facility's models are listed once per facility, then scanned one per page. */
async function assetStep(input: SyncInput, facilityId: string, round: Round): Promise<Step> {
  if (!round.rootsListed) {
    const facility = await readFacility(input.rest, facilityId);
    Object.assign(round, { rootsListed: true, queue: facility.models });
    return { records: [], more: facility.models.length > 0 };
  }
  const records = await scanAssets(input.rest, facilityId, round.queue[0]!);
  round.queue = round.queue.slice(1);
  return { records, more: round.queue.length > 0 };
}

function step(input: SyncInput, projectId: string, round: Round): Promise<Step> {
  switch (input.resource) {
    case 'projects':
      return projectStep(input, projectId);
    case 'documents':
      return folderStep(input, projectId, round, false);
    case 'folder-tree':
      return folderStep(input, projectId, round, true);
    case 'issues':
      return issueStep(input, projectId, round);
    case 'facilities':
      return facilityStep(input, projectId);
    case 'assets':
      return assetStep(input, projectId, round);
  }
}

function newRound(projects: string[], watermark: UpdatedWatermark, now: number): Round {
  return {
    projects,
    index: 0,
    startedAtMs: now,
    sinceMs: queryStartMs(watermark, SINCE_OVERLAP_MS),
    offset: 0,
    queue: [],
    rootsListed: false,
    page: 0,
    seen: [],
  };
}

/** One page of `resource` for the round the cursor holds (a new round when there is none or the selection changed). */
export async function fetchResourcePage(input: SyncInput): Promise<SyncPage> {
  const cursor: Cursor = input.cursorText ? (JSON.parse(input.cursorText) as Cursor) : { watermark: EMPTY_WATERMARK };
  if (!cursor.round || cursor.round.projects.join(',') !== input.projects.join(','))
    cursor.round = newRound(input.projects, cursor.watermark, input.now);
  const round = cursor.round;
  const { records, more } = await step(input, round.projects[round.index]!, round);
  let fresh = records;
  if (input.resource === 'issues') {
    const seen = records.map((r) => ({ id: r.externalId, updatedMs: Date.parse(r.version ?? '') }));
    fresh = records.filter((_r, i) => isFresh(cursor.watermark, seen[i]!.id, seen[i]!.updatedMs));
    const pending = [...round.seen, ...seen.filter((item) => Number.isFinite(item.updatedMs))];
    const newest = Math.max(...pending.map((item) => item.updatedMs));
    round.seen = pending.filter((item) => item.updatedMs >= newest - SINCE_OVERLAP_MS);
  }
  if (!more) Object.assign(round, { index: round.index + 1, offset: 0, queue: [], rootsListed: false, page: 0 });
  if (round.index < round.projects.length)
    return { records: fresh, deletedExternalIds: [], nextCursor: JSON.stringify(cursor), roundComplete: false };
  const done: Cursor = { watermark: advanceWatermark(cursor.watermark, round.seen, SINCE_OVERLAP_MS) };
  return { records: fresh, deletedExternalIds: [], nextCursor: JSON.stringify(done), roundComplete: true };
}
