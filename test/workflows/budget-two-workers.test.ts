/**
 * Vendor budgets hold across worker processes (issue #17 item 1): two real processes, each running
 * the GitHub connector with the shared Postgres budgets (`dev/budgetLoadWorker.ts`), call one
 * emulated installation whose primary limit is exactly what our budget may spend in any window,
 * with a demand far above it. What the vendor counted is compared with what the budget allows
 * between the first take and the last grant: nothing over it, no 429, and ≥ 95 % of it used.
 */
import { runBudgetLoad } from '../../dev/budgetLoad';
import { hashBucketKey } from '../../db/rateLimits';
import { superuserDb } from '../support/db';
import { testStack } from '../support/stackInfo';

jest.setTimeout(180_000);

test('T12 [github]: two worker processes on one installation spend one budget — 0 requests over it, 0 429s, ≥ 95 % used', async () => {
  const su = superuserDb();
  try {
    const figures = await runBudgetLoad({
      databaseAppUrl: testStack().database.appUrl,
      workers: 2,
      durationMs: 15_000,
      concurrency: 4,
      // The database is shared by the test files of a run: start from a fresh bucket.
      beforeStart: async (key) => {
        await su('rate_limit_buckets')
          .where({ bucket_key: Buffer.from(hashBucketKey(key), 'hex') })
          .del();
      },
    });
    expect(figures.reports.every((report) => report.granted > 0)).toBe(true);
    expect(figures.otherErrors).toBe(0);
    expect(figures.vendor429s).toBe(0);
    expect(figures.requestsOverBudget).toBe(0);
    expect(figures.usedPercent).toBeGreaterThanOrEqual(95);
    // The demand was above the budget: both processes were refused and waited.
    expect(figures.reports.every((report) => report.budgetRefusals > 0)).toBe(true);
  } finally {
    await su.destroy();
  }
});
