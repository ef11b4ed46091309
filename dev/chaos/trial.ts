/**
 * One chaos trial: a fresh stack; an admin connects GitHub through the API (the browser's part
 * included), which starts the first sync, a multi-page one; the fault hits at a random moment of it
 * (or of the connect); the trial waits for the sync to end and compares the cache with the vendor's
 * source (`./verify`). Anything else that goes wrong (a sync that fails or never ends) fails the trial.
 */
import crypto from 'node:crypto';
import { adminToken, apiClient, connectGithub } from '../sandboxDriver';
import type { FaultCounts } from '../../emulators/shared';
import { workflowIds } from '../../workflows/definitions';
import { FAULTS, type FaultContext, type FaultName, type InjectedFault } from './faults';
import { runRotations, type RotationFigures } from './rotations';
import { CHAOS_REPOSITORIES, startChaosStack, type ChaosStack } from './stack';
import { compareRecords, readOutcome, sourceRecords, type Comparison } from './verify';
import { sleep, syncOutcome } from './runs';

/** 100 issues a page: 8 pages a repository, plus the repositories' and releases' pages. */
const ISSUES_PER_REPOSITORY = 800;
/** Each vendor request takes this long: the sync lasts several seconds, so a random moment lands inside it. */
const VENDOR_LATENCY_MS = 300;
/** The fault hits this long after the sync's run started, drawn uniformly (the sync takes about 8–15 s here). */
const FAULT_WINDOW_MS = { min: 300, max: 6_000 };
const SYNC_START_TIMEOUT_MS = 60_000;

export interface TrialResult {
  fault: FaultName;
  trial: number;
  /** When and what the fault hit. */
  moment: string;
  atMs?: number;
  syncState: string;
  expected: number;
  cached: number;
  lost: number;
  duplicated: number;
  cursorsConsistent: boolean;
  cursorProblems: string[];
  auditChainValid: boolean;
  auditEntries: number;
  /** The vendor fault's injected answers (vendor-errors only). */
  vendorFaults?: Omit<FaultCounts, 'requests'>;
  /** What the token-rotation trial counted. */
  rotations?: RotationFigures;
  durationMs: number;
  passed: boolean;
  error?: string;
}

/** Resolves once the first sync's run exists (the lifecycle starts it shortly after the connect). */
async function syncStarted(stack: ChaosStack, ref: { workspaceId: string; integrationId: string }): Promise<void> {
  const handle = stack.temporal.workflow.getHandle(workflowIds.sync(ref.workspaceId, ref.integrationId));
  const deadline = Date.now() + SYNC_START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (
      await handle.describe().then(
        () => true,
        () => false,
      )
    )
      return;
    await sleep(100);
  }
  throw new Error(`the first sync did not start within ${SYNC_START_TIMEOUT_MS / 1000} s of the connect`);
}

/** Every rotation done, no sync run failed, no call refused for its token. */
const rotationsHeld = (figures: RotationFigures) =>
  figures.rotated === figures.rotations && figures.syncRunsFailed === 0 && figures.vendor401s === 0;

function passed(result: Omit<TrialResult, 'passed'>): boolean {
  return (
    (result.rotations === undefined || rotationsHeld(result.rotations)) &&
    result.syncState === 'completed' &&
    result.lost === 0 &&
    result.duplicated === 0 &&
    result.cached === result.expected &&
    result.cursorsConsistent &&
    result.auditChainValid
  );
}

type TrialOutcome = Omit<TrialResult, 'trial' | 'durationMs' | 'passed'>;

async function rotationsOnStack(stack: ChaosStack, total: number): Promise<TrialOutcome> {
  const { figures, comparison, auditChainValid, auditEntries } = await runRotations(stack, total);
  return {
    fault: 'token-rotation',
    moment:
      `${figures.rotated}/${figures.rotations} rotated, ${figures.rotationsFailed} failed; ` +
      `${figures.syncRuns} sync runs alongside, ${figures.syncRunsFailed} failed; vendor 401s ${figures.vendor401s}`,
    syncState: figures.syncRunsFailed === 0 ? 'completed' : 'failed',
    ...comparison,
    auditChainValid,
    auditEntries,
    rotations: figures,
  };
}

async function faultOnStack(stack: ChaosStack, name: InjectedFault, random: () => number): Promise<TrialOutcome> {
  const fault = FAULTS[name];
  const workspaceId = crypto.randomUUID();
  const api = apiClient(stack.apiUrl, await adminToken(stack.config, workspaceId, 'chaos-admin'));
  const context: Omit<FaultContext, 'ref'> = { stack, vendorLatencyMs: VENDOR_LATENCY_MS, random };
  let moment = 'not reached';
  const connection = await connectGithub(
    api,
    workspaceId,
    { repositories: CHAOS_REPOSITORIES },
    fault.phase === 'connect'
      ? async () => void (moment = await fault.inject({ ...context, ref: { workspaceId, integrationId: '' } }))
      : undefined,
  );
  const ref = { workspaceId, integrationId: connection.integrationId };
  // The connect started the first sync; the fault hits it at a random moment (the vendor's errors from its start).
  let atMs: number | undefined;
  let injected: Promise<void> = Promise.resolve();
  if (fault.phase === 'sync') {
    // A fault of the whole sync is on before its first request; the others hit a random moment of it.
    atMs = fault.end ? 0 : Math.round(FAULT_WINDOW_MS.min + random() * (FAULT_WINDOW_MS.max - FAULT_WINDOW_MS.min));
    injected = (fault.end ? Promise.resolve() : syncStarted(stack, ref))
      .then(() => sleep(atMs!))
      .then(() => fault.inject({ ...context, ref }))
      .then((hit) => void (moment = `t+${(atMs! / 1000).toFixed(1)} s: ${hit}`));
  }
  const [progress] = await Promise.all([syncOutcome(api, connection.integrationPath), injected]);
  await fault.end?.({ ...context, ref });
  const outcome = await readOutcome(stack.admin, stack.workerDb, ref);
  const comparison: Comparison = compareRecords({
    source: sourceRecords(stack.github, CHAOS_REPOSITORIES),
    cached: outcome.cached,
    states: outcome.states,
    run: progress,
  });
  const { serverErrors, throttled } = stack.faults.counts();
  return {
    fault: name,
    moment,
    atMs,
    syncState: progress.state,
    ...comparison,
    auditChainValid: outcome.auditChainValid,
    auditEntries: outcome.auditEntries,
    ...(name === 'vendor-errors' ? { vendorFaults: { serverErrors, throttled } } : {}),
  };
}

export async function runTrial(input: {
  fault: FaultName;
  trial: number;
  random: () => number;
  /** Rotations of the token-rotation trial. */
  rotations: number;
  workflowBundle: string;
  log: (line: string) => void;
}): Promise<TrialResult> {
  const started = Date.now();
  const failed = (error: unknown): TrialResult => ({
    fault: input.fault,
    trial: input.trial,
    moment: 'n/a',
    syncState: 'unknown',
    // Not compared: the line shows the error instead.
    expected: 0,
    cached: 0,
    lost: 0,
    duplicated: 0,
    cursorsConsistent: false,
    cursorProblems: [],
    auditChainValid: false,
    auditEntries: 0,
    durationMs: Date.now() - started,
    passed: false,
    error: error instanceof Error ? error.message : String(error),
  });
  let stack: ChaosStack | undefined;
  try {
    stack = await startChaosStack({
      issuesPerRepository: ISSUES_PER_REPOSITORY,
      vendorLatencyMs: VENDOR_LATENCY_MS,
      random: input.random,
      workflowBundle: input.workflowBundle,
      log: input.log,
    });
    stack.faults.set({ latencyMs: VENDOR_LATENCY_MS });
    const result =
      input.fault === 'token-rotation'
        ? await rotationsOnStack(stack, input.rotations)
        : await faultOnStack(stack, input.fault, input.random);
    const complete = { ...result, trial: input.trial, durationMs: Date.now() - started };
    return { ...complete, passed: passed(complete) };
  } catch (error) {
    return failed(error);
  } finally {
    await stack?.stop();
  }
}

/** Mulberry32: a small seeded generator, so a run's moments and vendor errors can be replayed with `--seed`. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
