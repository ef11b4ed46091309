/**
 * The polling floor (T12): the shortest cadence at which scheduled syncs of one integration stay
 * inside the vendor's request budget, derived from that budget and what the syncs drawing on it
 * cost, never picked per vendor.
 *
 * Why this shape: a sync costs one request per page, and every resource is walked at least once,
 * so one integration's sync costs `max(lastSyncPages, resources)` requests. The budget
 * (`requestsPerWindow` per `windowMs`, already below the vendor's published limit) is the vendor
 * account's: every integration counted against it draws on it (`rateLimit.countedPer`: a GitHub
 * installation, a Jira site, a Microsoft tenant; without it, the workspace), and so do
 * webhook-triggered syncs, "sync now", data-out actions, token refreshes and the customer's own use
 * of the account. Polling may take `POLLING_BUDGET_SHARE` of it, split by cost among the polled
 * integrations on the budget: when each polls at the floor, together they spend at most that share
 * and leave the rest to the other traffic. A cadence never goes below one budget window: the
 * budget cannot be judged at a finer grain.
 */

/** The part of the vendor budget scheduled polling may use; the rest is headroom for the account's other traffic. */
export const POLLING_BUDGET_SHARE = 0.25;

/** What one sync of a polled integration costs: the resources it walks and the pages its last sync took. */
export interface SyncCost {
  resources: number;
  /** Pages the integration's last sync cost (0 before its first completed sync). */
  lastSyncPages: number;
}

export interface PollFloorInput {
  /** Requests the vendor budget allows per window (the descriptor's `rateLimit.requestsPerMinute`). */
  requestsPerWindow: number;
  windowMs: number;
  /** Resources one sync of this integration walks: each costs at least one page. */
  resources: number;
  /** Pages this integration's last sync cost (0 before its first completed sync). */
  lastSyncPages: number;
  /** The other polled integrations drawing on the same budget (none by default). */
  sharing?: readonly SyncCost[];
  /** Default `POLLING_BUDGET_SHARE`. */
  pollingShare?: number;
}

/** Requests one sync costs: a page per resource at least. */
export const syncRequests = (cost: SyncCost): number => Math.max(cost.lastSyncPages, cost.resources);

/** The floor in ms, rounded up to a whole second. */
export function pollFloorMs(input: PollFloorInput): number {
  const share = input.pollingShare ?? POLLING_BUDGET_SHARE;
  if (!(input.requestsPerWindow > 0) || !(input.windowMs > 0) || !(share > 0 && share <= 1))
    throw new RangeError('pollFloorMs: the budget, its window and the share must be positive');
  const others = (input.sharing ?? []).reduce((sum, cost) => sum + syncRequests(cost), 0);
  const requestsPerRound = Math.max(syncRequests(input) + others, 1);
  const pollingRequestsPerWindow = input.requestsPerWindow * share;
  const floor = Math.max(input.windowMs, (requestsPerRound / pollingRequestsPerWindow) * input.windowMs);
  return Math.ceil(floor / 1000) * 1000;
}

/** A vendor row's budget window: its `rateLimit.requestsPerMinute` counts per minute. */
export const VENDOR_BUDGET_WINDOW_MS = 60_000;

/** What the floor needs of a vendor row (its descriptor). */
export interface PolledRow {
  id: string;
  rateLimit: { requestsPerMinute: number };
  syncResources: readonly string[];
}

/**
 * The floor of an integration of a vendor row whose last sync cost `lastSyncPages`, next to the
 * other polled integrations drawing on the same budget (`sharing`).
 */
export function rowPollFloorMs(
  row: Omit<PolledRow, 'id'>,
  lastSyncPages: number,
  sharing: readonly SyncCost[] = [],
): number {
  return pollFloorMs({
    requestsPerWindow: row.rateLimit.requestsPerMinute,
    windowMs: VENDOR_BUDGET_WINDOW_MS,
    resources: row.syncResources.length,
    lastSyncPages,
    sharing,
  });
}
