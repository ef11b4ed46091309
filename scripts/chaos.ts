/**
 * `npm run chaos [-- --trials <n>] [--only <fault>] [--seed <n>] [--rotations <n>] [--verbose]`:
 * the fault-injection harness (`dev/chaos/`, docs/chaos.md). Each trial runs against a fresh stack
 * (Temporal dev server, embedded Postgres, the GitHub emulator behind a TCP proxy, two worker
 * processes, the API), injects one fault into a multi-page sync (or a connect) and compares the
 * cache with the vendor's source.
 *
 * Trials: `--trials` (default 20) SIGKILLs of a worker at a random moment of the sync; one each of
 * Postgres stopped and restarted, Temporal stopped and restarted during the sync and during the
 * connect, the vendor answering 30 % 503/429 with Retry-After, the network to the vendor cut and
 * restored, and 1,000 token rotations (`--rotations`) under steady sync traffic. `--only <fault>`
 * runs one kind (`--trials` of it); `--seed` replays a run's moments; `--verbose` shows the stack's
 * messages. Prints one line per trial and a summary, writes `reports/chaos.json`, exits 1 if any
 * trial lost or duplicated a record or failed.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { REPORTS_DIR } from '../dev/trustReport';
import { FAULT_NAMES, type FaultName } from '../dev/chaos/faults';
import { runTrial, seededRandom, type TrialResult } from '../dev/chaos/trial';
import { DEFAULT_ROTATIONS } from '../dev/chaos/rotations';
import { stopLiveStacks } from '../dev/chaos/stack';
import { ToolMissingError } from '../dev/tools';
import { bundleWorkflows, WORKFLOW_BUNDLE_FILE } from '../workers/createWorker';

const DEFAULT_KILL_TRIALS = 20;

const print = (line = '') => process.stdout.write(`${line}\n`);

interface Plan {
  trials: FaultName[];
  seed: number;
  rotations: number;
  verbose: boolean;
}

function plan(argv: string[]): Plan {
  const { values } = parseArgs({
    args: argv,
    options: {
      trials: { type: 'string' },
      only: { type: 'string' },
      seed: { type: 'string' },
      rotations: { type: 'string' },
      verbose: { type: 'boolean', default: false },
    },
  });
  const count = values.trials === undefined ? undefined : Number(values.trials);
  if (count !== undefined && (!Number.isInteger(count) || count < 1 || count > 1000))
    throw new Error('--trials takes a whole number from 1 to 1000');
  const seed = values.seed === undefined ? Date.now() % 2 ** 31 : Number(values.seed);
  if (!Number.isInteger(seed) || seed < 0 || seed >= 2 ** 31) throw new Error('--seed takes a whole number below 2^31');
  const rotations = values.rotations === undefined ? DEFAULT_ROTATIONS : Number(values.rotations);
  if (!Number.isInteger(rotations) || rotations < 1 || rotations > 100_000)
    throw new Error('--rotations takes a whole number from 1 to 100000');
  if (values.only !== undefined) {
    if (!(FAULT_NAMES as readonly string[]).includes(values.only))
      throw new Error(`--only takes one of ${FAULT_NAMES.join(', ')}`);
    return {
      trials: Array.from({ length: count ?? 1 }, () => values.only as FaultName),
      seed,
      rotations,
      verbose: values.verbose,
    };
  }
  const kills = Array.from({ length: count ?? DEFAULT_KILL_TRIALS }, (): FaultName => 'worker-kill');
  return {
    trials: [...kills, ...FAULT_NAMES.filter((name) => name !== 'worker-kill')],
    seed,
    rotations,
    verbose: values.verbose,
  };
}

const yesNo = (ok: boolean) => (ok ? 'yes' : 'NO');

function line(result: TrialResult, total: number): string {
  const head = `${String(result.trial).padStart(String(total).length)}/${total} ${result.fault.padEnd(24)}`;
  const tail = `${(result.durationMs / 1000).toFixed(0).padStart(4)} s  ${result.passed ? 'ok' : 'FAILED'}`;
  if (result.error) return `${head} error: ${result.error}  ${tail}`;
  const vendor = result.vendorFaults
    ? `  (vendor sent ${result.vendorFaults.serverErrors}×503, ${result.vendorFaults.throttled}×429)`
    : '';
  return (
    `${head} ${result.moment}${vendor} | sync ${result.syncState}, records expected ${result.expected} ` +
    `cached ${result.cached} lost ${result.lost} duplicated ${result.duplicated} | cursors ok ${yesNo(result.cursorsConsistent)}` +
    ` | audit chain ok ${yesNo(result.auditChainValid)} (${result.auditEntries}) | ${tail}` +
    (result.cursorProblems.length ? `\n      cursor problems: ${result.cursorProblems.join('; ')}` : '')
  );
}

function summary(results: TrialResult[]) {
  const byFault = Object.fromEntries(
    [...new Set(results.map((r) => r.fault))].map((fault) => {
      const mine = results.filter((r) => r.fault === fault);
      return [fault, { trials: mine.length, passed: mine.filter((r) => r.passed).length }];
    }),
  );
  return {
    trials: results.length,
    passed: results.filter((r) => r.passed).length,
    recordsExpected: results.reduce((sum, r) => sum + r.expected, 0),
    lost: results.reduce((sum, r) => sum + r.lost, 0),
    duplicated: results.reduce((sum, r) => sum + r.duplicated, 0),
    cursorsInconsistent: results.filter((r) => !r.error && !r.cursorsConsistent).length,
    auditChainsBroken: results.filter((r) => !r.error && !r.auditChainValid).length,
    errors: results.filter((r) => r.error).length,
    byFault,
  };
}

/** The figures so far, rewritten after every trial: an interrupted run keeps what it measured. */
function writeFigures(file: string, run: { seed: number; planned: number; results: TrialResult[] }): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const figures = { seed: run.seed, at: new Date().toISOString(), planned: run.planned, ...summary(run.results) };
  fs.writeFileSync(file, `${JSON.stringify({ ...figures, results: run.results }, null, 2)}\n`);
}

/** Ctrl-C (or SIGTERM) stops the trial's stack before exiting; the figures so far are already written. */
function stopOnSignals(): void {
  const stop = () => {
    print('Interrupted: stopping the stack…');
    void stopLiveStacks().finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

async function main(): Promise<number> {
  const { trials, seed, rotations, verbose } = plan(process.argv.slice(2));
  stopOnSignals();
  // The stack's own messages (servers, restarts of the supervised processes) only with --verbose.
  const log = verbose ? (message: string) => process.stderr.write(`  ${message}\n`) : () => undefined;
  const random = seededRandom(seed);
  const file = path.join(REPORTS_DIR, 'chaos.json');
  print(`Chaos: ${trials.length} trials, seed ${seed} (repeat with --seed ${seed}); a fresh stack each`);
  const bundleDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-chaos-bundle-'));
  const workflowBundle = path.join(bundleDir, WORKFLOW_BUNDLE_FILE);
  const results: TrialResult[] = [];
  try {
    fs.writeFileSync(workflowBundle, (await bundleWorkflows()).code);
    for (const [index, fault] of trials.entries()) {
      const result = await runTrial({ fault, trial: index + 1, random, rotations, workflowBundle, log });
      results.push(result);
      print(line(result, trials.length));
      writeFigures(file, { seed, planned: trials.length, results });
    }
  } finally {
    fs.rmSync(bundleDir, { recursive: true, force: true });
  }
  const totals = summary(results);
  print();
  print(
    `Summary: ${totals.passed}/${totals.trials} trials passed; ${totals.recordsExpected} records expected, ` +
      `${totals.lost} lost, ${totals.duplicated} duplicated; cursors inconsistent in ${totals.cursorsInconsistent}, ` +
      `audit chains broken in ${totals.auditChainsBroken}, trials with errors ${totals.errors}`,
  );
  for (const [fault, { trials: count, passed }] of Object.entries(totals.byFault))
    print(`  ${fault.padEnd(24)} ${passed}/${count}`);
  print(`Figures: ${path.relative(process.cwd(), file)}`);
  return totals.passed === totals.trials ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    print(
      error instanceof ToolMissingError
        ? error.message
        : `chaos failed: ${error instanceof Error ? error.message : String(error)}`,
    );
    process.exit(1);
  },
);
