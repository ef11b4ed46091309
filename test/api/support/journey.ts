/**
 * The steps the API journeys through the real workflows share: a worker of the real workflows on the
 * harness queue, the admin's browser through hand-off, consent and callback, an action followed to
 * its end, and a disconnect followed to its purge receipt, all over HTTP.
 */
import crypto from 'node:crypto';
import { devServer, testWorker } from '../../support/temporal';
import type { VendorHarness } from '../../workflows/support/harness';
import { pollUntil } from '../../workflows/support/workflowHelpers';
import type { Harness } from './harness';

type Headers = Record<string, string>;

/** Runs `journey` with a worker of the real workflows (built on `worker`) polling the API's queue on the dev server. */
export async function withRealWorkflows<T>(h: Harness, worker: VendorHarness, journey: () => Promise<T>): Promise<T> {
  const server = await devServer();
  const running = await testWorker({
    connection: server.connection,
    taskQueue: h.taskQueue,
    activities: worker.activities,
  });
  try {
    return await running.runUntil(journey);
  } finally {
    await server.close();
  }
}

/** The integration as the admin reads it from the API. */
export async function integrationStatus(h: Harness, admin: Headers, path: string) {
  return (await h.app.inject({ method: 'GET', url: path, headers: admin })).json();
}

/** Starts a connect over HTTP (202); the integration's id and its path. */
export async function startConnectOverHttp(h: Harness, ws: string, admin: Headers, payload: Record<string, unknown>) {
  const connect = await h.app.inject({
    method: 'POST',
    url: `/v1/workspaces/${ws}/integrations`,
    headers: admin,
    payload,
  });
  expect(connect.statusCode).toBe(202);
  const { integrationId } = connect.json() as { integrationId: string };
  return { integrationId, path: `/v1/workspaces/${ws}/integrations/${integrationId}` };
}

/**
 * The admin's browser: the hand-off (which sets the consent session cookie), the consent at the
 * vendor's emulator, and the callback with that cookie (200). `check` sees the authorize and
 * callback URLs first.
 */
export async function consentInAdminBrowser(
  h: Harness,
  admin: Headers,
  path: string,
  check: (urls: { authorizeUrl: URL; callback: URL }) => void = () => {},
): Promise<void> {
  const handed = await pollUntil(
    () => h.app.inject({ method: 'GET', url: `${path}/authorize`, headers: admin }),
    (r) => r.statusCode === 200,
    30_000,
  );
  const cookie = String(handed.headers['set-cookie']).split(';')[0]!;
  const authorizeUrl = new URL(handed.json().authorizeUrl as string);
  const consent = await fetch(authorizeUrl, { redirect: 'manual' });
  const callback = new URL(consent.headers.get('location')!);
  check({ authorizeUrl, callback });
  const completed = await h.app.inject({
    method: 'GET',
    url: `${callback.pathname}${callback.search}`,
    headers: { cookie },
  });
  expect(completed.statusCode).toBe(200);
}

/** Connects over HTTP as the admin's browser would: the connect, then hand-off, consent and callback. */
export async function connectOverHttp(
  h: Harness,
  ws: string,
  admin: Headers,
  payload: Record<string, unknown>,
  check?: Parameters<typeof consentInAdminBrowser>[3],
) {
  const started = await startConnectOverHttp(h, ws, admin, payload);
  await consentInAdminBrowser(h, admin, started.path, check);
  return started;
}

/** Posts an action (202) and follows its status until it is no longer running; answers that status. */
export async function actionToItsEnd(
  h: Harness,
  admin: Headers,
  path: string,
  payload: { action: string; input: Record<string, unknown> },
) {
  const action = await h.app.inject({
    method: 'POST',
    url: `${path}/actions`,
    headers: { ...admin, 'idempotency-key': crypto.randomUUID() },
    payload,
  });
  expect(action.statusCode).toBe(202);
  return pollUntil(
    async () => (await h.app.inject({ method: 'GET', url: action.json().links.status, headers: admin })).json(),
    (s) => s.status !== 'running',
    30_000,
  );
}

/** The admin disconnects (202) and reads the purge receipt of the integration once the purge has run. */
export async function disconnectToReceipt(h: Harness, ws: string, admin: Headers, integrationId: string) {
  const path = `/v1/workspaces/${ws}/integrations/${integrationId}`;
  const disconnect = await h.app.inject({ method: 'DELETE', url: path, headers: admin });
  expect(disconnect.statusCode).toBe(202);
  const receipts = await pollUntil(
    async () =>
      (
        await h.app.inject({
          method: 'GET',
          url: `/v1/workspaces/${ws}/purge-receipts?integrationId=${integrationId}`,
          headers: admin,
        })
      ).json().receipts as Array<{ integrationId: string }>,
    (list) => list.length === 1,
    60_000,
  );
  expect(receipts[0]).toMatchObject({ integrationId });
  return receipts[0]!;
}
