/**
 * `npm run bench:budget`: vendor budget use with two worker processes against one emulated vendor
 * account whose budget is below the demand (`dev/budgetLoad.ts`).
 *
 * One throwaway Postgres on a free port; the GitHub emulator limits the installation to what our
 * budget (the GitHub descriptor's, 60 requests per minute) may spend; two processes with
 * BENCH_CONCURRENCY loops each call it for BENCH_DURATION_MS. Prints budget use %, requests over
 * the budget, the vendor's 429s and the budget's overhead per vendor call; writes
 * `bench-results/budget.json`. Targets: ≥ 95 % of the budget used, 0 requests over it, 0 429s.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { REPO_ROOT } from '../lib/config';
import { runBudgetLoad } from '../dev/budgetLoad';
import { freePort } from '../dev/processes';
import { startStack } from '../dev/stack';

const WORKERS = 2;
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 30_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 4);
const TARGET_USED_PERCENT = 95;

const print = (line = '') => process.stdout.write(`${line}\n`);

async function main(): Promise<void> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-budget-'));
  print(`Starting Postgres in ${dataDir}…`);
  const stack = await startStack({
    dataDir,
    persistent: false,
    postgres: { port: await freePort() },
    log: () => undefined,
  });
  try {
    print(`${WORKERS} worker processes × ${CONCURRENCY} loops for ${DURATION_MS / 1000} s against one installation…`);
    const figures = await runBudgetLoad({
      databaseAppUrl: stack.database!.appUrl,
      workers: WORKERS,
      durationMs: DURATION_MS,
      concurrency: CONCURRENCY,
    });
    const targets = {
      usedPercent: figures.usedPercent >= TARGET_USED_PERCENT,
      requestsOverBudget: figures.requestsOverBudget === 0,
      vendor429s: figures.vendor429s === 0,
    };
    print();
    print(`budget             ${figures.budget.capacity} requests, refilled ${figures.budget.refillPerSecond}/s`);
    print(`allowed in the run ${figures.allowed} requests`);
    print(`vendor counted     ${figures.vendorCounted} requests`);
    print(
      `budget used        ${figures.usedPercent} %   (target ≥ ${TARGET_USED_PERCENT} %)  ${ok(targets.usedPercent)}`,
    );
    print(`over the budget    ${figures.requestsOverBudget}   (target 0)  ${ok(targets.requestsOverBudget)}`);
    print(`vendor 429s        ${figures.vendor429s}   (target 0)  ${ok(targets.vendor429s)}`);
    print(`budget refusals    ${figures.budgetRefusals} (waited out, as the sync's durable timer does)`);
    print(
      `budget overhead    ${figures.takeMsPerRequest} ms and ${figures.storeRoundTripsPerRequest} store round trips per vendor request (${figures.takeMsPerTake} ms per take, refusals included)`,
    );
    const outDir = path.join(REPO_ROOT, 'bench-results');
    fs.mkdirSync(outDir, { recursive: true });
    fs.writeFileSync(
      path.join(outDir, 'budget.json'),
      `${JSON.stringify({ ...figures, targets, at: new Date().toISOString() }, null, 2)}\n`,
    );
    if (!Object.values(targets).every(Boolean)) process.exitCode = 1;
  } finally {
    await stack.stop();
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

const ok = (met: boolean) => (met ? 'met' : 'MISSED');

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
