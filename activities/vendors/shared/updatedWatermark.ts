/**
 * Incremental sync by "updated since" (GitHub `since`, Jira `updated >=`): the next query starts at
 * the newest `updated` seen minus an overlap window (eventual consistency; inclusive second- or
 * minute-precision filters), and items already seen with the same `updated` inside that window are
 * dropped, so a round returns each change once.
 */
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
