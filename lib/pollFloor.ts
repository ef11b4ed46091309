/**
 * The polling floor (T12): the shortest cadence at which scheduled syncs of one integration stay
 * inside the vendor's request budget, derived from that budget and what one sync of this
 * integration costs, never picked per vendor.
 *
 * Why this shape: a sync costs one request per page, and every resource is walked at least once,
 * so a sync costs `max(lastSyncPages, resources)` requests. The budget (`requestsPerWindow` per
 * `windowMs`, already below the vendor's published limit) is shared by everything the vendor
 * account does for this workspace: webhook-triggered syncs, "sync now", data-out actions, token
 * refreshes and the customer's own use of the account. Polling may take `POLLING_BUDGET_SHARE` of
 * it, so polling at the floor spends at most that share and leaves the rest to the other traffic.
 * A cadence never goes below one budget window: the budget cannot be judged at a finer grain.
 */

/** The part of the vendor budget scheduled polling may use; the rest is headroom for the account's other traffic. */
export const POLLING_BUDGET_SHARE = 0.25;

export interface PollFloorInput {
  /** Requests the vendor budget allows per window (the descriptor's `rateLimit.requestsPerMinute`). */
  requestsPerWindow: number;
  windowMs: number;
  /** Resources one sync walks: each costs at least one page. */
  resources: number;
  /** Pages the integration's last sync cost (0 before its first completed sync). */
  lastSyncPages: number;
  /** Default `POLLING_BUDGET_SHARE`. */
  pollingShare?: number;
}

/** The floor in ms, rounded up to a whole second. */
export function pollFloorMs(input: PollFloorInput): number {
  const share = input.pollingShare ?? POLLING_BUDGET_SHARE;
  if (!(input.requestsPerWindow > 0) || !(input.windowMs > 0) || !(share > 0 && share <= 1))
    throw new RangeError('pollFloorMs: the budget, its window and the share must be positive');
  const pagesPerSync = Math.max(input.lastSyncPages, input.resources, 1);
  const pollingRequestsPerWindow = input.requestsPerWindow * share;
  const floor = Math.max(input.windowMs, (pagesPerSync / pollingRequestsPerWindow) * input.windowMs);
  return Math.ceil(floor / 1000) * 1000;
}

/** A vendor row's budget window: its `rateLimit.requestsPerMinute` counts per minute. */
export const VENDOR_BUDGET_WINDOW_MS = 60_000;

/** The floor of an integration of a vendor row (its budget and sync resources) whose last sync cost `lastSyncPages`. */
export function rowPollFloorMs(
  row: { rateLimit: { requestsPerMinute: number }; syncResources: readonly string[] },
  lastSyncPages: number,
): number {
  return pollFloorMs({
    requestsPerWindow: row.rateLimit.requestsPerMinute,
    windowMs: VENDOR_BUDGET_WINDOW_MS,
    resources: row.syncResources.length,
    lastSyncPages,
  });
}
