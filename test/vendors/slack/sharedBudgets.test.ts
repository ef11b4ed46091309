/**
 * Slack's per-method tiers and per-channel pace drawn from the budgets every worker shares (issue
 * #17 item 1): two workers, each with its own shared budgets over one Postgres store, are together
 * held to one Slack workspace's tier and one channel's pace; another Slack workspace (team) has its
 * own; with the store unreachable a worker keeps to its local share of them.
 */
import type { Knex } from 'knex';
import { VendorError, VendorFailureType } from '../../../activities/vendors/errors';
import { createSharedVendorBudgets, type VendorBudgets } from '../../../activities/vendors/shared';
import type { Connector, TokenSet } from '../../../activities/vendors/types';
import { createPostgresVendorBudgetStore } from '../../../db/vendorBudgets';
import { runtimeDb } from '../../support/db';
import { createMemoryBudgetStore } from '../support/memoryBudgetStore';
import { startSlackHarness, type SlackHarness } from './harness';

/** conversations.list (Tier 2, 20 a minute): a burst of 5, then 15 a minute. */
const TIER2 = { burst: 5, refillPerSecond: 15 / 60 };
/** chat.postMessage per channel: one, then one every 1.25 s. */
const CHANNEL = { burst: 1, refillPerSecond: 4 / 5 };

let db: Knex;
/** Two Slack workspaces (teams): one emulator each, both installs of our one app. */
let teamA: SlackHarness;
let teamB: SlackHarness;
beforeAll(async () => {
  db = runtimeDb('worker');
  [teamA, teamB] = await Promise.all([startSlackHarness(), startSlackHarness()]);
});
afterAll(async () => {
  await Promise.all([teamA.emulator.stop(), teamB.emulator.stop(), db.destroy()]);
});

/** Two workers, each with its own budgets over the one Postgres store, as deployed. */
const twoWorkers = (): VendorBudgets[] =>
  [0, 1].map(() => createSharedVendorBudgets({ store: createPostgresVendorBudgetStore(db), expectedWorkers: 2 }));

/** Runs `count` calls, alternating between the callers; counts those served and the seconds it took. */
async function alternate(callers: Array<() => Promise<unknown>>, count: number) {
  const started = Date.now();
  const refusals: VendorError[] = [];
  let served = 0;
  for (let i = 0; i < count; i++) {
    await callers[i % callers.length]!().then(
      () => (served += 1),
      (error: VendorError) => refusals.push(error),
    );
  }
  return { served, refusals, elapsedS: (Date.now() - started) / 1000 };
}

/** The most a bucket of `capacity` refilled at `perSecond` can give in `elapsedS` (budgets refill in real time). */
const atMost = (capacity: number, perSecond: number, elapsedS: number) => Math.floor(capacity + elapsedS * perSecond);

function expectBudgetRefusals(refusals: VendorError[], maxWaitMs: number): void {
  expect(refusals.length).toBeGreaterThan(0);
  for (const refusal of refusals) {
    expect(refusal).toBeInstanceOf(VendorError);
    expect(refusal.type).toBe(VendorFailureType.RateLimited);
    expect(refusal.details.source).toBe('budget');
    expect(refusal.details.retryAfterMs).toBeGreaterThan(0);
    expect(refusal.details.retryAfterMs).toBeLessThanOrEqual(maxWaitMs);
  }
}

const webApiCalls = (harness: SlackHarness, method: string) =>
  harness.emulator.control.requests.filter((request) => request.path === `/api/${method}`);

const listChannels = (harness: SlackHarness, connector: Connector, credential: TokenSet) => () =>
  // A fresh integration (workspace of ours) each call: Slack counts the team, not our workspaces.
  connector.listControlChoices!(harness.context(credential), { cursor: null });

test("T12 [slack]: two workers listing one Slack workspace's channels together get Tier 2's burst once, then are refused with a wait; another Slack workspace is unaffected", async () => {
  const workers = twoWorkers();
  const credentialA = await teamA.connect();
  const before = webApiCalls(teamA, 'conversations.list').length;
  const run = await alternate(
    workers.map((budgets) => listChannels(teamA, teamA.workerConnector(budgets), credentialA)),
    12,
  );
  // One budget for the two workers and every integration on the team (per-process buckets served all 12).
  expect(run.served).toBeGreaterThanOrEqual(TIER2.burst);
  expect(run.served).toBeLessThanOrEqual(atMost(TIER2.burst, TIER2.refillPerSecond, run.elapsedS));
  expectBudgetRefusals(run.refusals, 1000 / TIER2.refillPerSecond);
  const sent = webApiCalls(teamA, 'conversations.list').slice(before);
  expect(sent).toHaveLength(run.served);
  expect(sent.every((call) => call.status === 200)).toBe(true);

  // The same two workers, for another team of the same app: its own Tier 2, untouched.
  teamB.emulator.control.addChannel('shared-tier-site');
  const credentialB = await teamB.connect();
  for (const budgets of workers)
    expect((await listChannels(teamB, teamB.workerConnector(budgets), credentialB)()).choices.length).toBeGreaterThan(
      0,
    );
});

test("T12 [slack]: chat.postMessage's pace of one channel is one for the two workers; another channel has its own", async () => {
  const workers = twoWorkers();
  const site = teamA.emulator.control.addChannel('shared-pace-site').id;
  const safety = teamA.emulator.control.addChannel('shared-pace-safety').id;
  const credential = await teamA.connect();
  const connectors = workers.map((budgets) => teamA.workerConnector(budgets));
  const post = (connector: Connector, channelId: string) => () =>
    connector.perform(teamA.context(credential, { channels: [site, safety] }), 'workflow-notification', {
      channelId,
      text: 'Pour scheduled',
    });
  const before = webApiCalls(teamA, 'chat.postMessage').length;
  const run = await alternate(
    connectors.map((connector) => post(connector, site)),
    6,
  );
  expect(run.served).toBeGreaterThanOrEqual(CHANNEL.burst);
  expect(run.served).toBeLessThanOrEqual(atMost(CHANNEL.burst, CHANNEL.refillPerSecond, run.elapsedS));
  expectBudgetRefusals(run.refusals, 1000 / CHANNEL.refillPerSecond);
  await post(connectors[1]!, safety)();
  const sent = webApiCalls(teamA, 'chat.postMessage').slice(before);
  expect(sent).toHaveLength(run.served + 1);
  expect(sent.every((call) => call.status === 200)).toBe(true);
});

test('T12 [slack]: with the store unreachable a worker keeps to its share of the tier (1/expected workers), never more', async () => {
  const store = createMemoryBudgetStore();
  store.failing = true;
  const budgets = createSharedVendorBudgets({ store, expectedWorkers: 2 });
  const credential = await teamB.connect();
  const run = await alternate([listChannels(teamB, teamB.workerConnector(budgets), credential)], 6);
  // Half of Tier 2's burst of 5, refilled at half its rate.
  expect(run.served).toBeGreaterThanOrEqual(2);
  expect(run.served).toBeLessThanOrEqual(atMost(TIER2.burst / 2, TIER2.refillPerSecond / 2, run.elapsedS));
  expectBudgetRefusals(run.refusals, 2000 / TIER2.refillPerSecond);
  expect(store.calls).toBeGreaterThan(0);
});
