/**
 * Incremental sync of one fscmRestApi resource by `LastUpdateDate` windows. A round queries from
 * the watermark (minus an overlap: Oracle's timestamps are set at commit, so a late commit can
 * carry an earlier time) to now, page by page with `offset`/`limit`. Oracle cuts off a query that
 * runs for five minutes with a 504; we never wait that long (our request times out first, inside
 * the activity's timeout), and either way the window is halved and the query retried over the
 * narrower window; the rest of the round then walks on in windows of that width.
 */
import { VendorError } from '../errors';
import { EMPTY_WATERMARK, advanceWatermark, freshRecords, queryStartMs, type UpdatedWatermark } from '../shared';
import type { SyncPage } from '../types';
import { RESOURCES, lastUpdateWindow, type CollectionPage } from './client';
import type { OracleErpResource } from './descriptor';

/** Overlap below the newest `LastUpdateDate` seen: commits later than their timestamp still arrive. */
export const OVERLAP_MS = 5 * 60_000;
/** Below this a window is not narrowed again: the cut-off is then not about the window's size. */
export const MIN_WINDOW_MS = 1_000;

/** Where a round stands: the watermark, and the window being read (absent between rounds). */
export interface ErpCursor {
  watermark: UpdatedWatermark;
  window?: { fromMs?: number; toMs?: number; offset: number };
}

export function parseCursor(text: string | null): ErpCursor {
  if (!text) return { watermark: EMPTY_WATERMARK };
  const parsed = JSON.parse(text) as ErpCursor;
  return { watermark: parsed.watermark ?? EMPTY_WATERMARK, ...(parsed.window ? { window: parsed.window } : {}) };
}

/** A query cut off by the server (504) or by our own timeout, as the error mapping types both. */
export function isCutOff(error: unknown): boolean {
  return error instanceof VendorError && error.details.status === 504;
}

/** The first half of the window, or undefined when it is already as narrow as we go. */
export function narrowed(window: NonNullable<ErpCursor['window']>, now: number): ErpCursor['window'] | undefined {
  const fromMs = window.fromMs ?? 0;
  const toMs = window.toMs ?? now;
  if (toMs - fromMs < 2 * MIN_WINDOW_MS) return undefined;
  return { fromMs, toMs: fromMs + Math.floor((toMs - fromMs) / 2), offset: 0 };
}

/** After a narrowed window: the next one of the same width, open-ended once it reaches now. */
function following(window: NonNullable<ErpCursor['window']>, now: number): ErpCursor['window'] | undefined {
  if (window.toMs === undefined) return undefined;
  const width = window.toMs - (window.fromMs ?? 0);
  const toMs = window.toMs + width;
  return { fromMs: window.toMs, ...(toMs < now ? { toMs } : {}), offset: 0 };
}

export interface Row {
  LastUpdateDate?: unknown;
  [field: string]: unknown;
}

/** Lists one page of the resource (an audited, budgeted vendor call). */
export type ErpLister = (page: { offset: number; limit: number; q?: string }) => Promise<CollectionPage<Row>>;

/**
 * One page of the round. A cut-off query answers an empty page whose cursor holds the narrower
 * window, so each retry is its own audited, budgeted call and its own committed step.
 */
export async function fetchErpPage(input: {
  list: ErpLister;
  resource: OracleErpResource;
  cursorText: string | null;
  pageSize: number;
  now: number;
}): Promise<SyncPage> {
  const spec = RESOURCES[input.resource];
  const cursor = parseCursor(input.cursorText);
  const window = cursor.window ?? { fromMs: queryStartMs(cursor.watermark, OVERLAP_MS), offset: 0 };
  let page: CollectionPage<Row>;
  try {
    page = await input.list({
      offset: window.offset,
      limit: input.pageSize,
      q: lastUpdateWindow(window.fromMs, window.toMs),
    });
  } catch (error) {
    const narrower = isCutOff(error) ? narrowed(window, input.now) : undefined;
    if (!narrower) throw error;
    return {
      records: [],
      deletedExternalIds: [],
      nextCursor: JSON.stringify({ watermark: cursor.watermark, window: narrower }),
      roundComplete: false,
    };
  }
  const rows = Array.isArray(page.items) ? page.items : [];
  const items = rows.flatMap((row) => {
    const id = row[spec.idField];
    const updatedMs = typeof row.LastUpdateDate === 'string' ? Date.parse(row.LastUpdateDate) : NaN;
    return (typeof id === 'number' || typeof id === 'string') && Number.isFinite(updatedMs)
      ? [{ id: String(id), updatedMs, row }]
      : [];
  });
  const records = freshRecords(input.resource, cursor.watermark, items);
  const watermark = advanceWatermark(cursor.watermark, items, OVERLAP_MS);
  // An empty page that claims more would loop for ever: it ends the window instead.
  const next =
    page.hasMore && rows.length > 0 ? { ...window, offset: window.offset + rows.length } : following(window, input.now);
  return {
    records,
    deletedExternalIds: [],
    nextCursor: JSON.stringify(next ? { watermark, window: next } : { watermark }),
    roundComplete: next === undefined,
  };
}
