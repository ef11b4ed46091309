/**
 * Vendor budgets shared by every worker (issue #17 item 1): the store contract (Postgres and its
 * in-memory double answer alike), leases that never let workers together pass one budget, the
 * conservative local share when the store is unreachable, the block a vendor 429 puts on a key for
 * every worker, and keys taken from the descriptor the way each vendor counts.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { VendorError, VendorFailureType } from '../../activities/vendors/errors';
import { githubDescriptor } from '../../activities/vendors/github/descriptor';
import { mapGithubError } from '../../activities/vendors/github/errors';
import { createTokenOctokit } from '../../activities/vendors/github/client';
import { jiraDescriptor } from '../../activities/vendors/jira/descriptor';
import { PLANNED_ROW_BUDGETS } from '../../activities/vendors/manifest';
import { microsoftDescriptors } from '../../activities/vendors/microsoft/descriptor';
import { mapProcoreError, rateLimited as procoreRateLimited } from '../../activities/vendors/procore/errors';
import { slackDescriptor } from '../../activities/vendors/slack/descriptor';
import { slackPlatformError } from '../../activities/vendors/slack/errors';
import { createVendorCall } from '../../activities/vendors/shared';
import {
  budgetKey,
  createSharedVendorBudgets,
  leaseSize,
  STORE_RETRY_MS,
  subBudgetKey,
  type BudgetLog,
} from '../../activities/vendors/shared/vendorBudgets';
import { createPostgresVendorBudgetStore, type VendorBudgetStore } from '../../db/vendorBudgets';
import { runtimeDb } from '../support/db';
import { startGithubHarness, type GithubHarness } from './github/harness';
import { createMemoryBudgetStore } from './support/memoryBudgetStore';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const key = () => `vendor:test:account=${crypto.randomUUID()}`;
/** Practically no refill during a test: what is spent stays spent. */
const NO_REFILL = { capacity: 5, refillPerSecond: 0.001 };

let worker: Knex;
beforeAll(() => {
  worker = runtimeDb('worker');
});
afterAll(async () => worker.destroy());

describe.each([
  ['Postgres (vendor_budget_lease / vendor_budget_block)', () => createPostgresVendorBudgetStore(worker)],
  ['the in-memory contract double', () => createMemoryBudgetStore()],
])('vendor budget store contract: %s', (_name, makeStore: () => VendorBudgetStore) => {
  test('a lease is never more than the bucket holds; a spent bucket answers when the next token comes', async () => {
    const store = makeStore();
    const k = key();
    expect(await store.lease(k, 3, NO_REFILL)).toEqual({ granted: 3, waitMs: 0 });
    // The last two: the bucket is empty now, and the answer says when it holds a token again (~1,000 s at 0.001/s).
    const last = await store.lease(k, 3, NO_REFILL);
    expect(last.granted).toBe(2);
    expect(last.waitMs).toBeGreaterThan(990_000);
    const spent = await store.lease(k, 3, NO_REFILL);
    expect(spent.granted).toBe(0);
    // 1 token at 0.001/s: about 1,000 s away.
    expect(spent.waitMs).toBeGreaterThan(990_000);
    expect(spent.waitMs).toBeLessThanOrEqual(1_000_000);
  });

  test('a block empties the bucket and refuses every lease until it passes; then what refilled since is there', async () => {
    const store = makeStore();
    const k = key();
    const policy = { capacity: 100, refillPerSecond: 10 };
    expect((await store.lease(k, 1, policy)).granted).toBe(1);
    await store.block(k, 400);
    const blocked = await store.lease(k, 50, policy);
    expect(blocked.granted).toBe(0);
    expect(blocked.waitMs).toBeGreaterThan(200);
    expect(blocked.waitMs).toBeLessThanOrEqual(400);
    await sleep(blocked.waitMs + 150);
    // ~550 ms of refill at 10/s since the block: a few tokens, far from the 99 left before it.
    const after = await store.lease(k, 50, policy);
    expect(after.granted).toBeGreaterThanOrEqual(4);
    expect(after.granted).toBeLessThan(30);
  });
});

test('Postgres refuses malformed budget arguments and stores hashed keys only', async () => {
  const lease = (hex: string, want: number, capacity: number) =>
    worker.raw('select * from vendor_budget_lease(?, ?::integer, ?::double precision, 1)', [hex, want, capacity]);
  const hex = crypto.randomBytes(32).toString('hex');
  await expect(lease('not-a-hash', 1, 10)).rejects.toThrow(/invalid arguments/);
  await expect(lease(hex, 0, 10)).rejects.toThrow(/invalid arguments/);
  await expect(lease(hex, 1, Number.NaN)).rejects.toThrow(/invalid arguments/);
  await expect(worker.raw("select vendor_budget_block(?, 'Infinity')", [hex])).rejects.toThrow(/invalid arguments/);
  await expect(worker.raw('select * from rate_limit_buckets')).rejects.toThrow(/permission denied/);
});

describe('shared vendor budgets over one store', () => {
  function clock() {
    let at = 1_000_000;
    return { now: () => at, advance: (ms: number) => (at += ms) };
  }

  test('T12: two workers drawing on one budget together get exactly the budget, in few store round trips', async () => {
    const time = clock();
    const store = createMemoryBudgetStore(time.now);
    const policy = { capacity: 60, refillPerSecond: 1 };
    const workers = [0, 1].map(() => createSharedVendorBudgets({ store, expectedWorkers: 2, now: time.now }));
    let granted = 0;
    for (let i = 0; i < 200; i++) {
      await workers[i % 2]!.take('github', 'k', policy).then(
        () => (granted += 1),
        (error: VendorError) => expect(error.type).toBe(VendorFailureType.RateLimited),
      );
    }
    expect(granted).toBe(60);
    // Leases of 3 (a twentieth of 60): 20 round trips for 60 calls. The worker that emptied the bucket
    // was told so and refuses on its own; the other asks once more.
    expect(leaseSize(policy)).toBe(3);
    expect(store.calls).toBe(21);
  });

  test('a refused take is answered locally until the wait has passed, then the store is asked again', async () => {
    const time = clock();
    const store = createMemoryBudgetStore(time.now);
    const budgets = createSharedVendorBudgets({ store, expectedWorkers: 2, now: time.now });
    const policy = { capacity: 1, refillPerSecond: 1 };
    await budgets.take('github', 'k', policy);
    const refusal = await budgets.take('github', 'k', policy).catch((error: VendorError) => error);
    expect(refusal).toMatchObject({ type: VendorFailureType.RateLimited, details: { retryAfterMs: 1_000 } });
    const calls = store.calls;
    time.advance(500);
    await expect(budgets.take('github', 'k', policy)).rejects.toMatchObject({ details: { retryAfterMs: 500 } });
    expect(store.calls).toBe(calls);
    time.advance(500);
    await budgets.take('github', 'k', policy);
    expect(store.calls).toBe(calls + 1);
  });

  test('T12 T25: store unreachable → a local share of budget / expected workers, never unlimited; logged once without ids; shared again once it answers', async () => {
    const time = clock();
    const store = createMemoryBudgetStore(time.now);
    const lines: Array<{ level: string; meta: Record<string, unknown>; message: string }> = [];
    const log: BudgetLog = {
      warn: (meta, message) => lines.push({ level: 'warn', meta, message }),
      info: (meta, message) => lines.push({ level: 'info', meta, message }),
    };
    const budgets = createSharedVendorBudgets({ store, expectedWorkers: 4, log, now: time.now });
    const policy = { capacity: 60, refillPerSecond: 1 };
    const account = `vendor:github:installationId=${crypto.randomUUID()}`;
    store.failing = true;
    let granted = 0;
    for (let i = 0; i < 100; i++)
      await budgets.take('github', account, policy).then(
        () => (granted += 1),
        () => 0,
      );
    expect(granted).toBe(15);
    expect(lines).toEqual([
      {
        level: 'warn',
        meta: { vendor: 'github', reason: 'ECONNREFUSED', share: 0.25 },
        message: 'vendor budget store unreachable: using the local share of each budget',
      },
    ]);
    expect(JSON.stringify(lines)).not.toContain(account.split('=')[1]);
    // The share refills at a quarter of the rate too.
    time.advance(4_000);
    await budgets.take('github', account, policy);
    await expect(budgets.take('github', account, policy)).rejects.toMatchObject({
      type: VendorFailureType.RateLimited,
    });
    // Back: after STORE_RETRY_MS the store is asked again and the budget is the shared one.
    store.failing = false;
    time.advance(STORE_RETRY_MS);
    await budgets.take('github', account, policy);
    expect(lines.at(-1)).toMatchObject({ level: 'info', meta: { vendor: 'github' } });
  });

  test("T12: a vendor 429 with Retry-After blocks the key for every worker: the other worker's call is refused before reaching the vendor", async () => {
    const time = clock();
    const store = createMemoryBudgetStore(time.now);
    const workerCall = () =>
      createVendorCall({
        family: 'github',
        appId: 'app-1',
        rateLimit: githubDescriptor.rateLimit,
        budgets: createSharedVendorBudgets({ store, expectedWorkers: 2, now: time.now }),
        mapError: mapGithubError,
      });
    const [a, b] = [workerCall(), workerCall()];
    const ctx = {
      audit: <T>(_call: unknown, run: () => Promise<T>) => run(),
      workspaceId: crypto.randomUUID(),
      credential: { metadata: { installationId: '77' } },
    };
    const call = { action: 'issues.list', scope: 'repo:read' };
    await expect(
      a(ctx, call, () =>
        Promise.reject(
          new VendorError(VendorFailureType.RateLimited, 'github', 'rate limited (429)', {
            source: 'vendor',
            status: 429,
            retryAfterMs: 30_000,
          }),
        ),
      ),
    ).rejects.toMatchObject({ details: { status: 429 } });
    let reached = 0;
    // Another workspace on the same installation, on the other worker: the same budget.
    const other = { ...ctx, workspaceId: crypto.randomUUID() };
    await expect(b(other, call, async () => (reached += 1))).rejects.toMatchObject({
      type: VendorFailureType.RateLimited,
      details: { retryAfterMs: 30_000 },
    });
    expect(reached).toBe(0);
    time.advance(29_999);
    await expect(b(other, call, async () => (reached += 1))).rejects.toMatchObject({ details: { retryAfterMs: 1 } });
    time.advance(1);
    await b(other, call, async () => (reached += 1));
    expect(reached).toBe(1);
  });
});

describe('T12: who refused decides the block: the vendor (typed `source: vendor`) or our own pacing (`source: budget`)', () => {
  const time = { now: () => 1_000_000 };
  const procore429 = () => ({
    body: {},
    response: { status: 429, statusText: 'Too Many Requests', headers: new Headers({ 'retry-after': '10' }) },
  });
  const twoWorkers = (family: string) => {
    const store = createMemoryBudgetStore(time.now);
    const workerCall = () =>
      createVendorCall({
        family,
        appId: 'app-1',
        rateLimit: { requestsPerMinute: 600 },
        budgets: createSharedVendorBudgets({ store, expectedWorkers: 2, now: time.now }),
        mapError: (error) => error,
      });
    return [workerCall(), workerCall()] as const;
  };
  const ctx = () => ({ audit: <T>(_call: unknown, run: () => Promise<T>) => run(), workspaceId: crypto.randomUUID() });
  const call = { action: 'chat.postMessage', scope: 'chat:write' };

  test("a vendor's refusal without an HTTP status (Slack's `ok: false, error: ratelimited`) blocks the key for the other worker", async () => {
    const [a, b] = twoWorkers('slack');
    const shared = ctx();
    const refusal = slackPlatformError('ratelimited');
    expect(refusal.details).toEqual({ source: 'vendor', retryAfterMs: 60_000 });
    await expect(a(shared, call, () => Promise.reject(refusal))).rejects.toBe(refusal);
    let reached = 0;
    await expect(b(shared, call, async () => (reached += 1))).rejects.toMatchObject({
      type: VendorFailureType.RateLimited,
      details: { source: 'budget' },
    });
    expect(reached).toBe(0);
  });

  test("our own pacing's refusal (Procore's gate on a spent hourly window, a Slack channel's pace) blocks nothing: the other worker's call goes out", async () => {
    const [a, b] = twoWorkers('procore');
    const shared = ctx();
    for (const own of [
      procoreRateLimited(3_600_000, 'X-Rate-Limit-Remaining: 0', 'budget'),
      new VendorError(VendorFailureType.RateLimited, 'procore', 'paced', { source: 'budget', retryAfterMs: 30_000 }),
    ]) {
      await expect(a(shared, call, () => Promise.reject(own))).rejects.toBe(own);
      let reached = 0;
      await b(shared, call, async () => (reached += 1));
      expect(reached).toBe(1);
    }
    // Procore's own 429 does block (workers that leased nothing yet: a lease already held is spent first).
    const [c, d] = twoWorkers('procore');
    await expect(
      c(shared, call, () => Promise.reject(mapProcoreError(procore429(), time.now()))),
    ).rejects.toMatchObject({ details: { source: 'vendor', status: 429 } });
    await expect(d(shared, call, async () => 'sent')).rejects.toMatchObject({ details: { source: 'budget' } });
  });
});

describe('T12 [github]: a real 429 blocks the installation for two workers sharing Postgres', () => {
  let harness: GithubHarness;
  beforeAll(async () => {
    harness = await startGithubHarness();
  });
  afterAll(async () => harness.emulator.stop());

  test("one worker's 429 from GitHub refuses the other worker's calls until Retry-After passes", async () => {
    const credential = await harness.connect();
    // One app per test run: the shared table outlives this file (other files use the same installation ids).
    const appId = `app-${crypto.randomUUID()}`;
    const workerCall = () =>
      createVendorCall({
        family: 'github',
        appId,
        rateLimit: githubDescriptor.rateLimit,
        budgets: createSharedVendorBudgets({ store: createPostgresVendorBudgetStore(worker), expectedWorkers: 2 }),
        mapError: mapGithubError,
      });
    const [a, b] = [workerCall(), workerCall()];
    const octokit = createTokenOctokit(harness.emulator.url, credential.accessToken);
    const list = () => octokit.rest.apps.listReposAccessibleToInstallation();
    const ctx = harness.context(credential);
    const call = { action: 'installation.list-repos', scope: 'repo:read' };
    harness.emulator.control.startRateLimitStorm(1, { status: 429, retryAfterSeconds: 2 });
    await expect(a(ctx, call, list)).rejects.toMatchObject({
      type: VendorFailureType.RateLimited,
      details: { status: 429 },
    });
    const before = harness.emulator.control.rateLimitUse(harness.installationId).counted;
    const refused = await b(harness.context(credential), call, list).catch((error: VendorError) => error);
    expect(refused).toMatchObject({ type: VendorFailureType.RateLimited });
    expect((refused as VendorError).details).toMatchObject({ source: 'budget' });
    expect((refused as VendorError).details.status).toBeUndefined();
    expect((refused as VendorError).details.retryAfterMs).toBeGreaterThan(1_000);
    expect(harness.emulator.control.rateLimitUse(harness.installationId).counted).toBe(before);
    await sleep((refused as VendorError).details.retryAfterMs! + 1_100);
    await b(harness.context(credential), call, list);
    expect(harness.emulator.control.rateLimitUse(harness.installationId).counted).toBe(before + 1);
  });
});

describe('budget keys follow how each vendor counts (from the descriptor)', () => {
  const ctxOf = (workspaceId: string, metadata: Record<string, string>) => ({ workspaceId, credential: { metadata } });
  const app = (family: string) => ({ family, id: 'app-1' });

  test('GitHub per installation, Jira per site, Graph per tenant whichever row; no countedPer: per workspace', () => {
    const [w1, w2] = [crypto.randomUUID(), crypto.randomUUID()];
    const gh = (w: string, id: string) =>
      budgetKey(app('github'), githubDescriptor.rateLimit, ctxOf(w, { installationId: id }));
    expect(gh(w1, '1')).toBe(gh(w2, '1'));
    expect(gh(w1, '1')).not.toBe(gh(w1, '2'));
    // Another app (another deployment's registration) has its own budget at the vendor.
    expect(
      budgetKey({ family: 'github', id: 'app-2' }, githubDescriptor.rateLimit, ctxOf(w1, { installationId: '1' })),
    ).not.toBe(gh(w1, '1'));
    expect(budgetKey(app('jira'), jiraDescriptor.rateLimit, ctxOf(w1, { cloudId: 'c1' }))).toBe(
      'vendor:jira:app=app-1:cloudId=c1',
    );
    const graph = (row: 'sharepoint' | 'teams') =>
      budgetKey(app('microsoft'), microsoftDescriptors[row].rateLimit, ctxOf(w1, { tenantId: 't1' }));
    expect(graph('sharepoint')).toBe(graph('teams'));
    // Slack per team; its tiers and channel paces are budgets inside the team's.
    const slack = budgetKey(app('slack'), slackDescriptor.rateLimit, ctxOf(w1, { teamId: 'T1' }));
    expect(slack).toBe(budgetKey(app('slack'), slackDescriptor.rateLimit, ctxOf(w2, { teamId: 'T1' })));
    expect(subBudgetKey(slack, 'method', 'conversations.list')).toBe(
      'vendor:slack:app=app-1:teamId=T1:method=conversations.list',
    );
    expect(budgetKey(app('slack'), PLANNED_ROW_BUDGETS.rateLimit, ctxOf(w1, { teamId: 'T1' }))).toBe(
      `vendor:slack:app=app-1:workspace=${w1}`,
    );
    // A credential without the account id (before the connect finished) falls back to the workspace.
    expect(budgetKey(app('github'), githubDescriptor.rateLimit, ctxOf(w1, {}))).toBe(
      `vendor:github:app=app-1:workspace=${w1}`,
    );
  });
});
