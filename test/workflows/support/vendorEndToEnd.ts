/**
 * The steps the vendor end-to-end tests share: one emulator harness and one workflow harness per
 * file, a dev-server worker per test, consent in the emulator's browser flow, the lifecycle's syncs,
 * rotation, disconnect and what a purge must leave behind. Each vendor test says only what differs.
 */
import crypto from 'node:crypto';
import { WorkflowFailedError, type Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { VendorError, VendorFailureType } from '../../../activities/vendors/errors';
import type {
  Connector,
  ConnectorContext,
  TokenSet,
  VendorDescriptor,
  VendorId,
} from '../../../activities/vendors/types';
import { integrationStateQuery, oauthCallbackUpdate, workflowIds } from '../../../workflows/definitions';
import { failureType } from '../../../workflows/failures';
import { devServer, testWorker, uniqueTaskQueue } from '../../support/temporal';
import { createVendorHarness, seedConnectedIntegration, type VendorHarness } from './harness';
import { ADMIN, pollUntil, type startConnect } from './workflowHelpers';

type IntegrationRef = { workspaceId: string; integrationId: string };

/**
 * Starts the vendor's emulator harness and the workflow harness over `rows` (all served by the
 * harness's connector) once for the file, and stops both after it; `bind` receives them.
 */
export function useVendorEndToEnd<V extends { connector: Connector; emulator: { stop(): Promise<void> } }>(
  start: () => Promise<V>,
  rows: VendorDescriptor[],
  bind: (parts: { vendor: V; h: VendorHarness }) => void,
): void {
  let parts: { vendor: V; h: VendorHarness } | undefined;
  beforeAll(async () => {
    const vendor = await start();
    parts = { vendor, h: createVendorHarness(rows.map((descriptor) => ({ descriptor, connector: vendor.connector }))) };
    bind(parts);
  });
  afterAll(async () => {
    await parts?.h.close();
    await parts?.vendor.emulator.stop();
  });
}

/** Runs `steps` with a worker of `h`'s activities on its own task queue of a dev server, closed after. */
export async function withDevServerWorker(
  h: VendorHarness,
  prefix: string,
  steps: (run: { client: Client; taskQueue: string }) => Promise<void>,
): Promise<void> {
  const server = await devServer();
  const taskQueue = uniqueTaskQueue(prefix);
  const worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
  try {
    await worker.runUntil(() => steps({ client: server.client, taskQueue }));
  } finally {
    await server.close();
  }
}

/**
 * The admin's browser at the authorize URL: the vendor (its emulator at `vendorUrl`) consents and
 * redirects back with our state, and the callback completes the connect run. Answers the callback URL.
 */
export async function consentInBrowser(
  connect: Awaited<ReturnType<typeof startConnect>>,
  vendorUrl: string,
): Promise<URL> {
  expect(connect.authorizeUrl.origin).toBe(new URL(vendorUrl).origin);
  const consent = await fetch(connect.authorizeUrl, { redirect: 'manual' });
  const callback = new URL(consent.headers.get('location')!);
  expect(callback.searchParams.get('state')).toBe(connect.state);
  await connect.handle.executeUpdate(oauthCallbackUpdate, {
    args: [{ state: connect.state, code: callback.searchParams.get('code')! }],
  });
  return callback;
}

/** The payloads of one resource the integration has in the cache. */
export async function cachedPayloads(
  h: VendorHarness,
  integrationId: string,
  resource: string,
): Promise<Array<Record<string, unknown>>> {
  const rows = await h.admin('cached_records').where({ integration_id: integrationId, resource }).select('payload');
  return rows.map((r) => r.payload as Record<string, unknown>);
}

/** The integration's lifecycle, once its first sync (started by the connect) has completed. */
export async function afterFirstSync(client: Client, ref: IntegrationRef) {
  const lifecycle = client.workflow.getHandle(workflowIds.lifecycle(ref.workspaceId, ref.integrationId));
  await pollUntil(
    () => lifecycle.query(integrationStateQuery),
    (s) => s.lastSync?.state === 'completed',
    60_000,
  );
  return lifecycle;
}

/** The admin's vendor action (data out) through vendorActionWorkflow; answers its result. */
export function vendorAction(
  client: Client,
  taskQueue: string,
  ref: IntegrationRef,
  request: { vendor: VendorId; action: string; input: Record<string, unknown> },
) {
  return client.workflow.execute('vendorActionWorkflow', {
    taskQueue,
    workflowId: workflowIds.action(ref.workspaceId, ref.integrationId, crypto.randomUUID()),
    args: [{ ...ref, ...request, actor: ADMIN }],
  });
}

/** Expects the run to fail as a workflow and answers its typed failure. */
export async function refusalOf(run: Promise<unknown>): Promise<string | undefined> {
  const error = await run.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(WorkflowFailedError);
  return failureType(error);
}

/** Rotates the integration's OAuth tokens through rotateSecretWorkflow (a short grace period). */
export function rotateTokens(client: Client, taskQueue: string, ref: IntegrationRef, vendor: VendorId) {
  return client.workflow.execute('rotateSecretWorkflow', {
    taskQueue,
    workflowId: workflowIds.rotate(ref.workspaceId, ref.integrationId),
    args: [{ ...ref, vendor, kind: 'oauth-tokens', actor: ADMIN, gracePeriodMs: 1_000 }],
  });
}

/** The admin disconnects the integration through disconnectWorkflow (purge after a second). */
export function disconnect(client: Client, taskQueue: string, ref: IntegrationRef) {
  return client.workflow.execute('disconnectWorkflow', {
    taskQueue,
    workflowId: workflowIds.disconnect(ref.workspaceId, ref.integrationId),
    args: [{ ...ref, actor: ADMIN, purgeDelayMs: 1_000 }],
  });
}

/** The grant types of the token requests (each with the vendor's status), from `from` on. */
export function grantTypesSince(tokenRequests: Array<{ body?: unknown; status?: number }>, from: number): string[] {
  return tokenRequests.slice(from).map((r) => `${(r.body as { grant_type?: string }).grant_type} ${r.status}`);
}

/** The integration's OAuth-token secrets' states, oldest first. */
export function tokenStates(h: VendorHarness, integrationId: string): Promise<string[]> {
  return h
    .admin('secrets')
    .where({ integration_id: integrationId, kind: 'oauth-tokens' })
    .orderBy('version')
    .pluck('state');
}

/**
 * What a purge leaves of the integration: no cached record, every secret destroyed, and (when
 * given) the audit log holding at least `auditActions`.
 */
export async function expectPurged(
  h: VendorHarness,
  integrationId: string,
  auditActions: string[] = [],
): Promise<void> {
  expect(await h.admin('cached_records').where({ integration_id: integrationId })).toEqual([]);
  const secrets = await h.admin('secrets').where({ integration_id: integrationId });
  expect(secrets.length).toBeGreaterThan(0);
  expect(secrets.every((s) => s.state === 'destroyed' && s.ciphertext === null)).toBe(true);
  const audit = await h.admin('audit_log').where({ integration_id: integrationId }).pluck('action');
  expect(audit).toEqual(expect.arrayContaining(auditActions));
}

/** The one integration of a workspace (a test that connected once). */
export async function onlyIntegrationOf(h: VendorHarness, workspaceId: string): Promise<string> {
  return (await h.admin('integrations').where({ workspace_id: workspaceId }).first()).integration_id as string;
}

/** A connected OAuth integration of `row` with `credential` stored as its current secret, as a finished connect leaves it. */
export function seedOauthIntegration(
  h: VendorHarness,
  row: { vendor: VendorId; scopes: string[]; controls: Record<string, string[]>; credential: TokenSet },
): Promise<IntegrationRef> {
  return seedConnectedIntegration(h, row.credential, row);
}

/** Runs an activity as its worker would (heartbeats and cancellation of a mock activity context). */
export function runActivity<I, O>(activity: (input: I) => Promise<O>, input: I): Promise<O> {
  return new MockActivityEnvironment().run(activity, input) as Promise<O>;
}

/**
 * A vendor whose refresh tokens are single use, refreshed twice at once: straight through the
 * connector one of the two loses the grant (the emulator refuses the reused token); through the
 * refresh activity the lock serialises them, each presents the token the other left, and the stored
 * pair still refreshes. Answers the integration it refreshed.
 */
export async function expectConcurrentRefreshesSerialised(options: {
  h: VendorHarness;
  vendor: { connector: Connector; connect(): Promise<TokenSet>; context(credential: TokenSet): ConnectorContext };
  /** The vendor's refresh-token grants so far, with the refresh token each presented and the answer. */
  refreshRequests: () => Array<{ body?: unknown; status?: number }>;
  seed: () => Promise<IntegrationRef>;
}): Promise<IntegrationRef> {
  const { h, vendor } = options;
  const credential = await vendor.connect();
  const unserialised = await Promise.allSettled([
    vendor.connector.refresh(vendor.context(credential)),
    vendor.connector.refresh(vendor.context(credential)),
  ]);
  const lost = unserialised.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  expect(lost).toHaveLength(1);
  expect(lost[0]!.reason).toBeInstanceOf(VendorError);
  expect((lost[0]!.reason as VendorError).type).toBe(VendorFailureType.ReauthorizationRequired);

  const ref = await options.seed();
  const before = options.refreshRequests().length;
  const refresh = () => runActivity(h.activities.refreshTokens, ref) as Promise<{ expiresAt?: number }>;
  const [a, b] = await Promise.all([refresh(), refresh()]);
  expect(a.expiresAt).toBeDefined();
  expect(b.expiresAt).toBeDefined();
  const presented = options
    .refreshRequests()
    .slice(before)
    .map((r) => `${(r.body as { refresh_token: string }).refresh_token} ${r.status}`);
  expect(presented).toHaveLength(2);
  expect(presented.every((line) => line.endsWith(' 200'))).toBe(true);
  expect(new Set(presented.map((line) => line.split(' ')[0])).size).toBe(2);
  expect(await tokenStates(h, ref.integrationId)).toEqual(['retired', 'retired', 'current']);
  // The stored pair is the live one: it calls and it refreshes again.
  await refresh();
  return ref;
}
