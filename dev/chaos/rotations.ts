/**
 * The token-rotation trial: 1,000 rotations (by default) of the integrations' access tokens (T8's
 * `rotateSecretWorkflow`: mint a new token at the vendor, test it, promote it, retire the previous
 * version after a grace period of one second) while every integration keeps syncing ("sync now"
 * through the API about once a second). Each workspace has its own GitHub installation (one is
 * bound to one workspace), so each its own vendor budget: the rotations spread over them.
 *
 * Passes when every rotation ends `rotated`, no sync run fails, the vendor answers no call with
 * 401 (a token used after it stopped working), and every cache still equals its source.
 */
import crypto from 'node:crypto';
import type { RotateResult } from '@trackproject/integrations-client/definitions';
import { workflowIds } from '../../workflows/definitions';
import { adminToken, apiClient, connectGithub, type ApiClient } from '../sandboxDriver';
import { sleep, syncOutcome } from './runs';
import type { ChaosStack } from './stack';
import { compareRecords, readOutcome, sourceRecords, type Comparison } from './verify';

/** The trial's default: 1,000 rotations over 20 integrations (`--rotations` sets another total). */
export const DEFAULT_ROTATIONS = 1_000;
const INTEGRATIONS = 20;
const ISSUES_PER_SITE = 150;
const GRACE_MS = 1_000;
/** "Sync now" per integration about this often while the rotations run. */
const SYNC_EVERY_MS = 1_000;

interface Site {
  workspaceId: string;
  integrationId: string;
  integrationPath: string;
  repositories: string[];
  api: ApiClient;
}

export interface RotationFigures {
  rotations: number;
  rotated: number;
  rotationsFailed: number;
  syncRequests: number;
  syncRuns: number;
  syncRunsFailed: number;
  /** Vendor calls answered 401: authentication failed. */
  vendor401s: number;
}

/** A GitHub account per workspace with one repository, the app installed by its owner, connected through the API. */
async function connectSite(stack: ChaosStack, index: number): Promise<Site> {
  const account = `site-${index}`;
  const owner = `pm-${index}`;
  const repository = `${account}/tower`;
  stack.github.control.addRepository(repository);
  for (let n = 1; n <= ISSUES_PER_SITE; n++)
    stack.github.control.addIssue(repository, { title: `Snag ${n}`, body: 'Chaos trial data' });
  stack.github.control.install({
    account,
    repositories: [repository],
    permissions: { metadata: 'read', contents: 'read', issues: 'write', statuses: 'write' },
    users: [owner],
    owners: [owner],
  });
  const workspaceId = crypto.randomUUID();
  const api = apiClient(stack.apiUrl, await adminToken(stack.config, workspaceId, `chaos-admin-${index}`));
  const connection = await connectGithub(api, workspaceId, {
    repositories: [repository],
    sessionCookie: stack.github.control.signIn(owner),
  });
  await syncOutcome(api, connection.integrationPath);
  return {
    workspaceId,
    integrationId: connection.integrationId,
    integrationPath: connection.integrationPath,
    repositories: [repository],
    api,
  };
}

/** One after the other: connects are the slow, CPU-heavy part, and a loaded machine times their callbacks out. */
async function connectSites(stack: ChaosStack, count: number): Promise<Site[]> {
  const sites: Site[] = [];
  for (let index = 0; index < count; index++) sites.push(await connectSite(stack, index));
  return sites;
}

/** Rotates one integration's tokens `count` times in a row, as a backend service would start it. */
async function rotate(stack: ChaosStack, site: Site, count: number, figures: RotationFigures): Promise<void> {
  for (let n = 0; n < count; n++) {
    figures.rotations += 1;
    const result: RotateResult | undefined = await stack.integrations
      .start(
        'rotateSecretWorkflow',
        {
          workspaceId: site.workspaceId,
          integrationId: site.integrationId,
          vendor: 'github',
          kind: 'oauth-tokens',
          actor: { type: 'service', id: 'chaos-harness' },
          gracePeriodMs: GRACE_MS,
        },
        { workflowId: workflowIds.rotate(site.workspaceId, site.integrationId) },
      )
      .then((handle) => handle.result())
      .catch(() => undefined);
    if (result?.status === 'rotated') figures.rotated += 1;
    else figures.rotationsFailed += 1;
  }
}

/** "Sync now" about once a second until `done`; the API joins a sync in flight. */
async function keepSyncing(site: Site, done: () => boolean, figures: RotationFigures): Promise<void> {
  while (!done()) {
    await site.api('POST', `${site.integrationPath}/sync`, 202, {}).catch(() => undefined);
    figures.syncRequests += 1;
    await sleep(SYNC_EVERY_MS);
  }
  await syncOutcome(site.api, site.integrationPath);
}

/** A sync still running this long after the traffic stopped has hung. */
const QUIET_TIMEOUT_MS = 300_000;

/**
 * Waits until no sync run is running anywhere on the stack: the lifecycles also sync on their own
 * schedule, and a "sync now" sent as the traffic stopped may have started one after the integration's
 * last outcome was read, so a round read before then can be mid-way without anything being wrong.
 */
async function untilNoSyncRuns(stack: ChaosStack): Promise<void> {
  const deadline = Date.now() + QUIET_TIMEOUT_MS;
  const running = `WorkflowType = 'syncWorkflow' AND ExecutionStatus = 'Running'`;
  while ((await stack.temporal.workflow.count(running)).count > 0) {
    if (Date.now() > deadline)
      throw new Error(`sync runs still running ${QUIET_TIMEOUT_MS / 1000} s after the traffic stopped`);
    await sleep(SYNC_EVERY_MS);
  }
}

/** Sync runs of the whole stack and the ones that ended badly, from Temporal's visibility. */
async function syncRuns(stack: ChaosStack): Promise<{ runs: number; failed: number }> {
  const count = async (query: string) => (await stack.temporal.workflow.count(query)).count;
  const ended = (status: string) => `ExecutionStatus = '${status}'`;
  return {
    runs: await count(`WorkflowType = 'syncWorkflow'`),
    failed: await count(
      `WorkflowType = 'syncWorkflow' AND (${['Failed', 'TimedOut', 'Terminated', 'Canceled'].map(ended).join(' OR ')})`,
    ),
  };
}

export async function runRotations(
  stack: ChaosStack,
  total: number,
): Promise<{
  figures: RotationFigures;
  comparison: Comparison;
  auditChainValid: boolean;
  auditEntries: number;
}> {
  const sites = await connectSites(stack, Math.min(INTEGRATIONS, total));
  const unauthorizedBefore = stack.github.control.requests.filter((request) => request.status === 401).length;
  const figures: RotationFigures = {
    rotations: 0,
    rotated: 0,
    rotationsFailed: 0,
    syncRequests: 0,
    syncRuns: 0,
    syncRunsFailed: 0,
    vendor401s: 0,
  };
  let rotating = true;
  const traffic = sites.map((site) => keepSyncing(site, () => !rotating, figures));
  // The total spread over the integrations, the remainder on the first ones.
  const share = (index: number) => Math.floor(total / sites.length) + (index < total % sites.length ? 1 : 0);
  await Promise.all(sites.map((site, index) => rotate(stack, site, share(index), figures)));
  rotating = false;
  await Promise.all(traffic);
  await untilNoSyncRuns(stack);
  figures.vendor401s =
    stack.github.control.requests.filter((request) => request.status === 401).length - unauthorizedBefore;
  const runs = await syncRuns(stack);
  figures.syncRuns = runs.runs;
  figures.syncRunsFailed = runs.failed;

  const totals: Comparison = {
    expected: 0,
    cached: 0,
    lost: 0,
    duplicated: 0,
    cursorsConsistent: true,
    cursorProblems: [],
  };
  let auditChainValid = true;
  let auditEntries = 0;
  for (const site of sites) {
    const outcome = await readOutcome(stack.admin, stack.workerDb, site);
    const comparison = compareRecords({
      source: sourceRecords(stack.github, site.repositories),
      cached: outcome.cached,
      states: outcome.states,
    });
    totals.expected += comparison.expected;
    totals.cached += comparison.cached;
    totals.lost += comparison.lost;
    totals.duplicated += comparison.duplicated;
    totals.cursorsConsistent &&= comparison.cursorsConsistent;
    totals.cursorProblems.push(...comparison.cursorProblems.map((problem) => `${site.repositories[0]} ${problem}`));
    auditChainValid &&= outcome.auditChainValid;
    auditEntries += outcome.auditEntries;
  }
  return { figures, comparison: totals, auditChainValid, auditEntries };
}
