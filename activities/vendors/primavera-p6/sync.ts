/**
 * Incremental sync of one P6 resource over the selected projects, one project a page (P6 answers
 * unpaged arrays, so a project is the natural unit). A round reads every selected project from the
 * watermark the round started with (minus an overlap) with `Filter` on `LastUpdateDate`; the
 * watermark the round builds takes over only when the round completes, so every project of a round
 * is read from the same point.
 */
import { EMPTY_WATERMARK, advanceWatermark, freshRecords, queryStartMs, type UpdatedWatermark } from '../shared';
import type { SyncPage } from '../types';
import { RESOURCES, p6Filter, p6Timestamp, parseP6Timestamp, type P6Row } from './client';
import type { P6Resource } from './descriptor';

/** P6 timestamps are to the second and set at save: a minute of overlap catches late saves. */
export const OVERLAP_MS = 60_000;

interface P6Cursor {
  /** The watermark the round reads from. */
  watermark: UpdatedWatermark;
  /** Within a round: the watermark it builds, and the next project (index into the sorted selection). */
  round?: { watermark: UpdatedWatermark; next: number };
}

function parseCursor(text: string | null): P6Cursor {
  if (!text) return { watermark: EMPTY_WATERMARK };
  const parsed = JSON.parse(text) as P6Cursor;
  return { watermark: parsed.watermark ?? EMPTY_WATERMARK, ...(parsed.round ? { round: parsed.round } : {}) };
}

export async function fetchP6Page(input: {
  read: (fields: readonly string[], filter: string) => Promise<P6Row[]>;
  resource: P6Resource;
  projects: readonly string[];
  cursorText: string | null;
}): Promise<SyncPage> {
  const spec = RESOURCES[input.resource];
  const cursor = parseCursor(input.cursorText);
  const round = cursor.round ?? { watermark: cursor.watermark, next: 0 };
  const projectId = input.projects[round.next];
  const fromMs = queryStartMs(cursor.watermark, OVERLAP_MS);
  const rows = projectId
    ? await input.read(
        spec.fields,
        p6Filter(
          `${spec.projectField}:eq:${projectId}`,
          fromMs === undefined ? undefined : `LastUpdateDate:gt:'${p6Timestamp(fromMs)}'`,
        ),
      )
    : [];
  const items = rows.flatMap((row) => {
    const id = row.ObjectId;
    const updatedMs = parseP6Timestamp(row.LastUpdateDate);
    // Only rows of the project asked for: an answer never widens the selection (T18).
    return typeof id === 'number' && Number.isFinite(updatedMs) && String(row[spec.projectField]) === projectId
      ? [{ id: String(id), updatedMs, row }]
      : [];
  });
  const records = freshRecords(input.resource, cursor.watermark, items);
  const built = advanceWatermark(round.watermark, items, OVERLAP_MS);
  const next = round.next + 1;
  const roundComplete = next >= input.projects.length;
  return {
    records,
    deletedExternalIds: [],
    nextCursor: JSON.stringify(
      roundComplete ? { watermark: built } : { watermark: cursor.watermark, round: { watermark: built, next } },
    ),
    roundComplete,
  };
}
