/**
 * Incremental sync by "updated since" (GitHub `since`, Jira `updated >=`): the next query starts at
 * the newest `updated` seen minus an overlap window (eventual consistency; inclusive second- or
 * minute-precision filters), and items already seen with the same `updated` inside that window are
 * dropped, so a round returns each change once.
 */
import type { SourceRecord } from '../types';

export interface UpdatedWatermark {
  /** Epoch ms of the newest `updated` seen; undefined before the first round. */
  newestMs?: number;
  /** `id@updatedMs` of items seen within the overlap window below `newestMs`. */
  recent: string[];
}

export const EMPTY_WATERMARK: UpdatedWatermark = { recent: [] };

/** Where the next query starts (undefined: from the beginning). */
export function queryStartMs(watermark: UpdatedWatermark, overlapMs: number): number | undefined {
  return watermark.newestMs === undefined ? undefined : watermark.newestMs - overlapMs;
}

export function isFresh(watermark: UpdatedWatermark, id: string, updatedMs: number): boolean {
  return !watermark.recent.includes(`${id}@${updatedMs}`);
}

/** A page's rows the watermark has not seen yet, as records versioned by their update time. */
export function freshRecords(
  resource: string,
  watermark: UpdatedWatermark,
  items: ReadonlyArray<{ id: string; updatedMs: number; row: Record<string, unknown> }>,
): SourceRecord[] {
  return items
    .filter((item) => isFresh(watermark, item.id, item.updatedMs))
    .map((item) => ({ resource, externalId: item.id, version: String(item.updatedMs), payload: item.row }));
}

export function advanceWatermark(
  watermark: UpdatedWatermark,
  items: Array<{ id: string; updatedMs: number }>,
  overlapMs: number,
): UpdatedWatermark {
  const newestMs = Math.max(watermark.newestMs ?? -Infinity, ...items.map((item) => item.updatedMs));
  if (!Number.isFinite(newestMs)) return watermark;
  const keys = new Set([...watermark.recent, ...items.map((item) => `${item.id}@${item.updatedMs}`)]);
  const recent = [...keys].filter((key) => Number(key.slice(key.lastIndexOf('@') + 1)) >= newestMs - overlapMs);
  return { newestMs, recent };
}
