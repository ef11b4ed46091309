/**
 * The polling floor (T12) is derived from the vendor row's request budget and what one sync of
 * the integration costs, leaving the account's other traffic its share of the budget.
 */
import { githubDescriptor } from '../../activities/vendors/github';
import { jiraDescriptor } from '../../activities/vendors/jira';
import { microsoftDescriptors } from '../../activities/vendors/microsoft';
import { budgetSharingRows } from '../../activities/vendors/catalog';
import { googleDescriptors } from '../../activities/vendors/google';
import { procoreDescriptor } from '../../activities/vendors/procore';
import {
  POLLING_BUDGET_SHARE,
  pollFloorMs,
  rowPollFloorMs,
  syncRequests,
  VENDOR_BUDGET_WINDOW_MS,
} from '../../lib/pollFloor';

const MINUTE = 60_000;

describe('polling floor', () => {
  it('T12: polling at the floor spends at most the polling share of the budget, and one step below it spends more', () => {
    for (const [budget, pages] of [
      [60, 300],
      [100, 37],
      [300, 1_234],
      [7, 1],
    ] as const) {
      const floor = pollFloorMs({ requestsPerWindow: budget, windowMs: MINUTE, resources: 1, lastSyncPages: pages });
      const perWindowAtFloor = (pages * MINUTE) / floor;
      expect(perWindowAtFloor).toBeLessThanOrEqual(budget * POLLING_BUDGET_SHARE);
      if (floor > MINUTE) expect((pages * MINUTE) / (floor - 1_000)).toBeGreaterThan(budget * POLLING_BUDGET_SHARE);
    }
  });

  it('T12: the floor grows with the pages one sync costs and shrinks with the budget', () => {
    const floor = (requestsPerWindow: number, lastSyncPages: number) =>
      pollFloorMs({ requestsPerWindow, windowMs: MINUTE, resources: 1, lastSyncPages });
    // 60 requests a minute, a quarter for polling: 15 pages a minute.
    expect(floor(60, 300)).toBe(20 * MINUTE);
    expect(floor(60, 600)).toBe(40 * MINUTE);
    expect(floor(120, 600)).toBe(20 * MINUTE);
    // A fraction of a second rounds up, never down (down would exceed the share).
    expect(floor(60, 301)).toBe(20 * MINUTE + 4_000);
  });

  it('T12: every resource costs a page, and the floor never goes below one budget window', () => {
    expect(pollFloorMs({ requestsPerWindow: 4, windowMs: MINUTE, resources: 3, lastSyncPages: 0 })).toBe(3 * MINUTE);
    expect(pollFloorMs({ requestsPerWindow: 5_000, windowMs: MINUTE, resources: 1, lastSyncPages: 2 })).toBe(MINUTE);
    expect(pollFloorMs({ requestsPerWindow: 60, windowMs: MINUTE, resources: 0, lastSyncPages: 0 })).toBe(MINUTE);
  });

  it('T12: a larger polling share lowers the floor; a share or budget that is not positive is refused', () => {
    const input = { requestsPerWindow: 60, windowMs: MINUTE, resources: 1, lastSyncPages: 300 };
    expect(pollFloorMs({ ...input, pollingShare: 0.5 })).toBe(10 * MINUTE);
    expect(() => pollFloorMs({ ...input, pollingShare: 0 })).toThrow(RangeError);
    expect(() => pollFloorMs({ ...input, pollingShare: 1.5 })).toThrow(RangeError);
    expect(() => pollFloorMs({ ...input, requestsPerWindow: 0 })).toThrow(RangeError);
    expect(() => pollFloorMs({ ...input, requestsPerWindow: Number.NaN })).toThrow(RangeError);
  });

  it('T12: integrations on one budget split the polling share: each polling at the floor, together they stay inside it', () => {
    const sharing = [
      { resources: 1, lastSyncPages: 120 },
      { resources: 4, lastSyncPages: 0 },
    ];
    const input = { requestsPerWindow: 60, windowMs: MINUTE, resources: 2, lastSyncPages: 176 };
    // 176 + 120 + 4 (a page per resource before a first sync) = 300 pages a round, 15 a minute.
    const floor = pollFloorMs({ ...input, sharing });
    expect(floor).toBe(20 * MINUTE);
    const allPages = [input, ...sharing].reduce((sum, cost) => sum + syncRequests(cost), 0);
    expect((allPages * MINUTE) / floor).toBeLessThanOrEqual(60 * POLLING_BUDGET_SHARE);
    expect((allPages * MINUTE) / (floor - 1_000)).toBeGreaterThan(60 * POLLING_BUDGET_SHARE);
    // Alone, the same integration may poll more often.
    expect(pollFloorMs(input)).toBeLessThan(floor);
    expect(pollFloorMs({ ...input, sharing: [] })).toBe(pollFloorMs(input));
  });

  it.each([
    ['github', githubDescriptor, 300, 20 * MINUTE],
    ['jira', jiraDescriptor, 300, 12 * MINUTE],
    ['microsoft365', microsoftDescriptors.microsoft365, 300, 4 * MINUTE],
    ['sharepoint', microsoftDescriptors.sharepoint, 300, 4 * MINUTE],
    ['onedrive', microsoftDescriptors.onedrive, 300, 4 * MINUTE],
    ['google-drive', googleDescriptors['google-drive'], 300, 4 * MINUTE],
    ['procore', procoreDescriptor, 300, 24 * MINUTE],
  ] as const)('T12 [%s]: the floor comes from the row’s own budget', (_row, descriptor, pages, expected) => {
    expect(rowPollFloorMs(descriptor, pages)).toBe(expected);
    expect(rowPollFloorMs(descriptor, 0)).toBe(VENDOR_BUDGET_WINDOW_MS);
  });

  it('T12: the rows sharing a budget are the family’s (Graph counts per tenant whichever row calls), a test row stands in under its id', () => {
    expect(budgetSharingRows(microsoftDescriptors.sharepoint).map((row) => row.id)).toEqual(
      Object.values(microsoftDescriptors).map((row) => row.id),
    );
    expect(budgetSharingRows(procoreDescriptor)).toEqual([procoreDescriptor]);
    const standIn = { ...githubDescriptor, syncResources: ['issues'] };
    expect(budgetSharingRows(standIn)).toEqual([standIn]);
  });
});
