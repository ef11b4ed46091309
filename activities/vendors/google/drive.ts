/**
 * Drive under `drive.file`: the app sees only the files the user picked and the files it created.
 * Sync never lists anything: a round starts from the picks the web app handed us (`controls.files`,
 * each fetched by id, a lost one counted as deleted), then follows Drive's changes feed from the
 * start page token taken before those reads, so nothing changed in between is missed. A change with
 * `removed: true` (deleted, or access lost) is a deletion; changes to files that are not picks (our
 * own exports) are not data in and are skipped.
 */
import type { drive_v3 } from '@googleapis/drive';
import { VendorError, VendorFailureType } from '../errors';
import type { ConnectorContext, SourceRecord, SyncPage } from '../types';
import { assertPicked, pickedFiles, refused } from './guards';
import type { GooglePlatform } from './platform';

export const PICKED_FILES_RESOURCE = 'picked-files';
/** Only metadata comes in: what a picked file is and which version, never its content. */
const FILE_FIELDS = 'id,name,mimeType,modifiedTime,version,trashed,parents,webViewLink';
const CHANGE_FIELDS = `nextPageToken,newStartPageToken,changes(changeType,removed,fileId,time,file(${FILE_FIELDS}))`;
/** Picks read per page of the first round; changes per page (Drive allows up to 1000). */
const PICKS_PER_PAGE = 50;
const CHANGES_PER_PAGE = 100;
const SCOPE = 'drive.file';

/** A round either reads the picks (from index `next`, changes to follow from `pageToken`) or pages the changes feed. */
type DriveCursor = { phase: 'picks'; next: number; pageToken: string } | { phase: 'changes'; pageToken: string };

export async function fetchPage(
  platform: GooglePlatform,
  ctx: ConnectorContext,
  input: { resource: string; cursor: string | null },
): Promise<SyncPage> {
  if (ctx.vendor !== 'google-drive' || input.resource !== PICKED_FILES_RESOURCE)
    return platform.driveCall(ctx, { action: `sync.${input.resource}`, scope: 'none' }, async () => {
      throw refused(ctx.vendor, `resource ${input.resource} is not in the matrix row`);
    });
  const cursor = input.cursor
    ? parseCursor(input.cursor)
    : { phase: 'picks' as const, next: 0, pageToken: await startPageToken(platform, ctx) };
  return cursor.phase === 'picks' ? picksPage(platform, ctx, cursor) : changesPage(platform, ctx, cursor.pageToken);
}

function parseCursor(text: string): DriveCursor {
  const cursor = JSON.parse(text) as DriveCursor;
  if (typeof cursor.pageToken !== 'string' || !/^[\w-]{1,200}$/.test(cursor.pageToken))
    throw new VendorError(VendorFailureType.CursorExpired, 'google-drive', 'unreadable page token');
  return cursor;
}

async function startPageToken(platform: GooglePlatform, ctx: ConnectorContext): Promise<string> {
  const { data } = await platform.driveCall(ctx, { action: 'changes.start-page-token', scope: SCOPE }, (drive) =>
    drive.changes.getStartPageToken({}),
  );
  if (!data.startPageToken)
    throw new VendorError(VendorFailureType.VendorUnavailable, 'google-drive', 'no start page token');
  return data.startPageToken;
}

async function picksPage(
  platform: GooglePlatform,
  ctx: ConnectorContext,
  cursor: { next: number; pageToken: string },
): Promise<SyncPage> {
  const picks = pickedFiles(ctx);
  const batch = picks.slice(cursor.next, cursor.next + PICKS_PER_PAGE);
  const records: SourceRecord[] = [];
  const deletedExternalIds: string[] = [];
  for (const fileId of batch) {
    const file = await getPickedFile(platform, ctx, fileId);
    if (!file || file.trashed) deletedExternalIds.push(fileId);
    else records.push(recordOf(file));
  }
  const next = cursor.next + batch.length;
  const done = next >= picks.length;
  return {
    records,
    deletedExternalIds,
    nextCursor: JSON.stringify(
      done ? { phase: 'changes', pageToken: cursor.pageToken } : { ...cursor, phase: 'picks', next },
    ),
    // The picks read, the round goes on into the changes made since its start token.
    roundComplete: false,
  };
}

/** A pick by id; undefined when Drive answers 404 (deleted, or the user's grant on it is gone). */
async function getPickedFile(
  platform: GooglePlatform,
  ctx: ConnectorContext,
  fileId: string,
): Promise<drive_v3.Schema$File | undefined> {
  try {
    const { data } = await platform.driveCall(
      ctx,
      { action: 'files.get', scope: SCOPE },
      (drive) => drive.files.get({ fileId, fields: FILE_FIELDS, supportsAllDrives: true }),
      () => assertPicked(ctx, fileId),
    );
    return data;
  } catch (error) {
    if (error instanceof VendorError && error.details.status === 404) return undefined;
    throw error;
  }
}

async function changesPage(platform: GooglePlatform, ctx: ConnectorContext, pageToken: string): Promise<SyncPage> {
  const { data } = await platform.driveCall(ctx, { action: 'changes.list', scope: SCOPE }, (drive) =>
    drive.changes.list({
      pageToken,
      pageSize: CHANGES_PER_PAGE,
      includeRemoved: true,
      spaces: 'drive',
      fields: CHANGE_FIELDS,
    }),
  );
  const picks = new Set(pickedFiles(ctx));
  const records: SourceRecord[] = [];
  const deletedExternalIds: string[] = [];
  for (const change of data.changes ?? []) {
    if (!change.fileId || !picks.has(change.fileId)) continue;
    if (change.removed || !change.file || change.file.trashed) deletedExternalIds.push(change.fileId);
    else records.push(recordOf(change.file));
  }
  const next = data.nextPageToken ?? data.newStartPageToken;
  if (!next) throw new VendorError(VendorFailureType.VendorUnavailable, 'google-drive', 'changes page without a token');
  return {
    records,
    deletedExternalIds,
    nextCursor: JSON.stringify({ phase: 'changes', pageToken: next }),
    roundComplete: !data.nextPageToken,
  };
}

function recordOf(file: drive_v3.Schema$File): SourceRecord {
  return {
    resource: PICKED_FILES_RESOURCE,
    externalId: String(file.id),
    version: file.version ?? file.modifiedTime ?? undefined,
    payload: {
      id: file.id,
      name: file.name,
      mimeType: file.mimeType,
      modifiedTime: file.modifiedTime,
      parents: file.parents,
      webViewLink: file.webViewLink,
    },
  };
}
