/**
 * Two (or more) worker processes drawing on one vendor account's budget, for the budget test and
 * `npm run bench:budget`. The vendor is the GitHub emulator with its per-installation primary limit
 * set to exactly what our budget may spend in any window, so a fleet that keeps to the budget never
 * sees a 429; the demand (several loops per process, no pause but the budget's) is far above it.
 *
 * Each process (`dev/budgetLoadWorker.ts`) runs the real GitHub connector with the shared Postgres
 * budgets and reports what it took. The figures:
 *   - allowed: what the budget permits between the first take and the last granted one
 *     (capacity + refill × elapsed): an upper bound, since grants fall inside that interval;
 *   - used: requests the vendor counted, over allowed; over: counted − allowed, floored at 0;
 *   - throttled: the vendor's 429s; overhead: time spent in `take` and store round trips per call.
 */
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { createGithubConnector } from '../activities/vendors/github/connector';
import { githubDescriptor } from '../activities/vendors/github/descriptor';
import { budgetKey, budgetPolicy } from '../activities/vendors/shared/vendorBudgets';
import type { ConnectorContext, TokenSet } from '../activities/vendors/types';
import { startGithubEmulator } from '../emulators/github';

/** What one worker process reports (stdout, one JSON line). */
export interface BudgetLoadReport {
  /** Vendor calls that passed the budget (each made one request). */
  granted: number;
  /** Refusals by the budget (RateLimited before any request). */
  budgetRefusals: number;
  /** Vendor answers of 429 / rate limit. */
  vendorThrottled: number;
  otherErrors: number;
  /** Epoch ms just before the first take, and when the last granted take returned. */
  startedAt: number;
  lastGrantAt: number;
  takes: number;
  takeMsTotal: number;
  /** Time in takes that granted: the budget's cost on a vendor call that goes ahead. */
  grantedTakeMsTotal: number;
  storeRoundTrips: number;
}

/** What each process is told (env BUDGET_LOAD, JSON). */
export interface BudgetLoadInput {
  databaseAppUrl: string;
  apiUrl: string;
  app: { appId: string; appSlug: string; clientId: string; clientSecret: string; privateKey: string };
  credential: TokenSet;
  startAt: number;
  durationMs: number;
  concurrency: number;
  expectedWorkers: number;
}

export interface BudgetLoadFigures {
  workers: number;
  durationMs: number;
  budget: { capacity: number; refillPerSecond: number };
  allowed: number;
  vendorCounted: number;
  usedPercent: number;
  requestsOverBudget: number;
  vendor429s: number;
  budgetRefusals: number;
  otherErrors: number;
  /** Mean time in `take` of a vendor call that went ahead, and of any take (refusals included). */
  takeMsPerRequest: number;
  takeMsPerTake: number;
  /** Store round trips (leases, blocks) per vendor request sent. */
  storeRoundTripsPerRequest: number;
  reports: BudgetLoadReport[];
}

const WORKER_SCRIPT = path.join(__dirname, 'budgetLoadWorker.ts');
const round3 = (n: number) => Math.round(n * 1000) / 1000;

/** A context as the generic activities build it: one integration on the installation. */
export function loadContext(credential: TokenSet, audit: ConnectorContext['audit']): ConnectorContext {
  return {
    workspaceId: crypto.randomUUID(),
    integrationId: crypto.randomUUID(),
    vendor: 'github',
    credential,
    scopes: credential.grantedScopes,
    controls: {},
    audit,
  };
}

/** The shared key the load spends: lets a caller clear it first when the database outlives one run. */
export const loadBudgetKey = (appId: string, installationId: string): string =>
  budgetKey({ family: 'github', id: appId }, githubDescriptor.rateLimit, {
    workspaceId: 'unused',
    credential: { metadata: { installationId } },
  });

function runWorker(input: BudgetLoadInput): Promise<BudgetLoadReport> {
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER_SCRIPT], {
    env: { ...process.env, BUDGET_LOAD: JSON.stringify(input) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      const line = out.trim().split('\n').pop() ?? '';
      if (code !== 0 || !line.startsWith('{')) reject(new Error(`budget load worker exited with ${code}`));
      else resolve(JSON.parse(line) as BudgetLoadReport);
    });
  });
}

export async function runBudgetLoad(options: {
  databaseAppUrl: string;
  workers: number;
  durationMs: number;
  concurrency: number;
  /** Called with the budget key before the processes start (tests clear it: their database is shared). */
  beforeStart?: (key: string) => Promise<void>;
}): Promise<BudgetLoadFigures> {
  const policy = budgetPolicy(githubDescriptor.rateLimit);
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const app = {
    appId: '5151',
    appSlug: 'trackproject-budget',
    clientId: 'Iv1.budget',
    clientSecret: crypto.randomBytes(16).toString('hex'),
    privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
  // The vendor allows, in any window, exactly what the budget may spend in it.
  const windowMs = 10_000;
  const emulator = await startGithubEmulator({
    appId: app.appId,
    appPublicKey: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    clientId: app.clientId,
    clientSecret: app.clientSecret,
    redirectUris: ['https://app.example.test/integrations/github/callback'],
    webhookSecret: crypto.randomBytes(16).toString('hex'),
    appSlug: app.appSlug,
    rateLimit: { limit: Math.floor(policy.capacity + (policy.refillPerSecond * windowMs) / 1000), windowMs },
  });
  try {
    emulator.control.addRepository('acme/site-a');
    const installationId = emulator.control.install({
      account: 'acme',
      repositories: ['acme/site-a'],
      permissions: { metadata: 'read', contents: 'read', issues: 'write', statuses: 'write' },
      users: ['octocat'],
    });
    // The installation token, minted with the app's key (an app call: outside the installation's limit).
    const minting = createGithubConnector({ apiBaseUrl: emulator.url, webBaseUrl: emulator.url, ...app });
    const metadata = { installationId: String(installationId) };
    const unminted: TokenSet = { accessToken: '', grantedScopes: [...githubDescriptor.scopes.required], metadata };
    const credential = await minting.refresh(loadContext(unminted, (_call, run) => run()));
    await options.beforeStart?.(loadBudgetKey(app.appId, String(installationId)));
    const input: BudgetLoadInput = {
      databaseAppUrl: options.databaseAppUrl,
      apiUrl: emulator.url,
      app,
      credential,
      // Every process starts together, once all have loaded.
      startAt: Date.now() + 8_000,
      durationMs: options.durationMs,
      concurrency: options.concurrency,
      expectedWorkers: options.workers,
    };
    const reports = await Promise.all(Array.from({ length: options.workers }, () => runWorker(input)));
    const use = emulator.control.rateLimitUse(installationId);
    const startedAt = Math.min(...reports.map((r) => r.startedAt));
    const lastGrantAt = Math.max(...reports.map((r) => r.lastGrantAt));
    const allowed = policy.capacity + (policy.refillPerSecond * (lastGrantAt - startedAt)) / 1000;
    const takes = reports.reduce((sum, r) => sum + r.takes, 0);
    const sum = (field: keyof BudgetLoadReport) => reports.reduce((total, r) => total + r[field], 0);
    return {
      workers: options.workers,
      durationMs: options.durationMs,
      budget: policy,
      allowed: Math.floor(allowed),
      vendorCounted: use.counted,
      usedPercent: Math.round((use.counted / Math.floor(allowed)) * 1000) / 10,
      requestsOverBudget: Math.max(0, use.counted - Math.floor(allowed)),
      vendor429s: use.throttled,
      budgetRefusals: sum('budgetRefusals'),
      otherErrors: sum('otherErrors'),
      takeMsPerRequest: round3(sum('grantedTakeMsTotal') / Math.max(1, sum('granted'))),
      takeMsPerTake: round3(sum('takeMsTotal') / Math.max(1, takes)),
      storeRoundTripsPerRequest: round3(sum('storeRoundTrips') / Math.max(1, sum('granted'))),
      reports,
    };
  } finally {
    await emulator.stop();
  }
}
