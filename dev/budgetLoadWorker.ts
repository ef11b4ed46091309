/**
 * One worker process of the budget load (`dev/budgetLoad.ts`): the real GitHub connector with the
 * shared Postgres budgets, `concurrency` loops of `fetchPage` until the deadline. A refusal by the
 * budget is waited out (the sync's durable timer, here a plain sleep); prints its report as JSON.
 * Run: node --import tsx dev/budgetLoadWorker.ts, with env BUDGET_LOAD (see BudgetLoadInput).
 */
import { createGithubConnector } from '../activities/vendors/github/connector';
import { VendorError, VendorFailureType } from '../activities/vendors/errors';
import { createSharedVendorBudgets, type VendorBudgets } from '../activities/vendors/shared';
import { createRuntimeDb } from '../db/knex';
import { createPostgresVendorBudgetStore, type VendorBudgetStore } from '../db/vendorBudgets';
import { loadContext, type BudgetLoadInput, type BudgetLoadReport } from './budgetLoad';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const input = JSON.parse(process.env.BUDGET_LOAD!) as BudgetLoadInput;
  const db = createRuntimeDb(input.databaseAppUrl, 'worker', input.concurrency);
  const report: BudgetLoadReport = {
    granted: 0,
    budgetRefusals: 0,
    vendorThrottled: 0,
    otherErrors: 0,
    startedAt: 0,
    lastGrantAt: 0,
    takes: 0,
    takeMsTotal: 0,
    grantedTakeMsTotal: 0,
    storeRoundTrips: 0,
  };
  const postgres = createPostgresVendorBudgetStore(db);
  const store: VendorBudgetStore = {
    lease: (...args) => ((report.storeRoundTrips += 1), postgres.lease(...args)),
    block: (...args) => ((report.storeRoundTrips += 1), postgres.block(...args)),
  };
  const shared = createSharedVendorBudgets({ store, expectedWorkers: input.expectedWorkers });
  // Measures the budget's own cost per call and when the last grant came back.
  const budgets: VendorBudgets = {
    async take(...args) {
      const started = performance.now();
      report.takes += 1;
      if (report.startedAt === 0) report.startedAt = Date.now();
      try {
        await shared.take(...args);
        report.lastGrantAt = Date.now();
        report.grantedTakeMsTotal += performance.now() - started;
      } finally {
        report.takeMsTotal += performance.now() - started;
      }
    },
    block: (...args) => shared.block(...args),
  };
  const connector = createGithubConnector({
    apiBaseUrl: input.apiUrl,
    webBaseUrl: input.apiUrl,
    ...input.app,
    budgets,
  });
  const ctx = loadContext(input.credential, (_call, run) => run());
  // A warm pool and a loaded connector before the common start, so the first second measures the budget.
  await db.raw('select 1');
  await sleep(Math.max(0, input.startAt - Date.now()));
  const deadline = input.startAt + input.durationMs;
  const loop = async () => {
    while (Date.now() < deadline) {
      try {
        await connector.fetchPage(ctx, { resource: 'repositories', cursor: null });
        report.granted += 1;
      } catch (error) {
        if (!(error instanceof VendorError) || error.type !== VendorFailureType.RateLimited) {
          report.otherErrors += 1;
          await sleep(50);
          continue;
        }
        if (error.details.status === undefined) report.budgetRefusals += 1;
        else report.vendorThrottled += 1;
        await sleep(Math.min(error.details.retryAfterMs ?? 1_000, Math.max(0, deadline - Date.now())));
      }
    }
  };
  await Promise.all(Array.from({ length: input.concurrency }, loop));
  await db.destroy();
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.name : 'error');
  process.exit(1);
});
