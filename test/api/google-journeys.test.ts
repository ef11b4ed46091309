/**
 * One journey per Google row through the real API, the real workflows and activities, the real
 * connector and the Google emulator (no contract doubles): an admin connects (the API's authorize
 * hand-off, consent at Google, the API's OAuth callback with the consent session cookie), reads the
 * ledger, and the row runs. Drive: the first sync, Drive's own push messages to the API's receiver
 * (token checked; forged, stale and replayed messages refused or counted as repeats) waking an
 * incremental sync, an export through the actions route, and disconnect (channel stopped, grant revoked).
 * Workspace: sign-in with the domain enforced, nothing synced, disconnect revokes.
 */
import crypto from 'node:crypto';
import type { Worker } from '@temporalio/worker';
import { googleDescriptors, type GoogleVendorId } from '../../activities/vendors/google';
import { devServer, testWorker } from '../support/temporal';
import { startGoogleHarness, type GoogleHarness } from '../vendors/google/harness';
import { createVendorHarness, type VendorHarness } from '../workflows/support/harness';
import { pollUntil } from '../workflows/support/workflowHelpers';
import { rotationStateQuery, workflowIds } from '../../workflows/definitions';
import { bearer, createHarness, PUBLIC_URL, type Harness } from './support/harness';

const callbackOf = (vendor: GoogleVendorId) => `${PUBLIC_URL}/v1/oauth/callback/${vendor}`;

describe('Google journeys through the real API (dev server, real workflows, Google emulator)', () => {
  let h: Harness;
  let google: GoogleHarness;
  let vendor: VendorHarness;
  let server: Awaited<ReturnType<typeof devServer>>;
  let worker: Worker;
  let workerDone: Promise<void>;
  let apiUrl: string;

  beforeAll(async () => {
    // The API reads the webhook signing secrets the worker stored: one key-encryption key for both.
    const secretsKey = crypto.randomBytes(32);
    h = await createHarness({ secretsKey });
    apiUrl = await h.app.listen({ port: 0, host: '127.0.0.1' });
    google = await startGoogleHarness([callbackOf('google-drive'), callbackOf('google-workspace')]);
    // Drive posts its push messages to the listening API: the worker registers channels at its URL.
    vendor = createVendorHarness(
      Object.values(googleDescriptors).map((descriptor) => ({ descriptor, connector: google.connector })),
      { webhookBaseUrl: apiUrl, key: secretsKey },
    );
    server = await devServer();
    worker = await testWorker({ connection: server.connection, taskQueue: h.taskQueue, activities: vendor.activities });
    workerDone = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await workerDone;
    await h?.close();
    await server?.close();
    await vendor?.close();
    await google?.stop();
  });

  /** Connect through the API as the admin's browser does; answers once the integration is connected and synced. */
  async function connectThroughApi(ws: string, row: GoogleVendorId, controls: Record<string, string[]>) {
    const admin = bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'admin-1' }));
    const started = await h.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${ws}/integrations`,
      headers: admin,
      payload: { vendor: row, controls, redirectUri: callbackOf(row) },
    });
    expect(started.statusCode).toBe(202);
    const { integrationId } = started.json() as { integrationId: string };
    const path = `/v1/workspaces/${ws}/integrations/${integrationId}`;
    const handOff = await pollUntil(
      () => h.app.inject({ method: 'GET', url: `${path}/authorize`, headers: admin }),
      (response) => response.statusCode === 200,
      30_000,
    );
    const authorizeUrl = new URL(handOff.json().authorizeUrl as string);
    expect(authorizeUrl.origin).toBe(new URL(google.emulator.url).origin);
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    const consent = await fetch(authorizeUrl, { redirect: 'manual' });
    const redirect = new URL(consent.headers.get('location')!);
    const callback = await h.app.inject({
      method: 'GET',
      url: `${redirect.pathname}${redirect.search}`,
      headers: { cookie: String(handOff.headers['set-cookie']).split(';')[0]! },
    });
    expect(callback.statusCode).toBe(200);
    const status = await pollUntil(
      async () => (await h.app.inject({ method: 'GET', url: path, headers: admin })).json(),
      (s) => s.status === 'connected' && s.live?.lastSync?.state === 'completed',
      30_000,
    );
    const ledger = await h.app.inject({ method: 'GET', url: `${path}/consents`, headers: admin });
    expect(ledger.json().consents).toEqual([
      expect.objectContaining({ action: 'granted', scopes: [...googleDescriptors[row].scopes.required] }),
    ]);
    return { integrationId, path, admin, status };
  }

  it('T1 T2 T4 T5 T11 T18 T19 T21 [google-drive]: connect with picked files → push messages from Drive wake an incremental sync at the API; forged, stale and replayed ones change nothing → export → disconnect (grant revoked)', async () => {
    const { control } = google.emulator;
    const folder = control.addFolder('Exports');
    const [plan, unpicked] = ['S-100 site plan.pdf', 'Bids.xlsx'].map((name) => control.addFile({ name }));
    control.pick([folder, plan!]);
    const ws = crypto.randomUUID();
    const { integrationId, path, admin } = await connectThroughApi(ws, 'google-drive', { files: [folder, plan!] });
    const cached = async () =>
      Object.fromEntries(
        (await h.su('cached_records').where({ integration_id: integrationId }).select('external_id', 'payload')).map(
          (r) => [r.external_id as string, String(r.payload.name)],
        ),
      );
    expect(await cached()).toEqual({ [folder]: 'Exports', [plan!]: 'S-100 site plan.pdf' });

    // Drive's channel opened with a sync message the receiver acknowledged, then a change wakes a sync.
    control.renameFile(plan!, 'S-100 site plan rev 2.pdf');
    await pollUntil(
      () => cached(),
      (records) => records[plan!] === 'S-100 site plan rev 2.pdf',
      30_000,
    );
    expect((await control.deliveries()).map((d) => `${d.state} ${d.status}`)).toEqual(['sync 200', 'change 202']);
    const endpointPath = new URL(control.channels()[0]!.address).pathname;
    expect(endpointPath).toMatch(new RegExp(`^/v1/webhooks/google-drive/${ws}/[0-9a-f-]{36}$`));

    // What a prober or a replayer can send: refused (401) or a repeat that changes nothing.
    const deliveries = await h.su('webhook_deliveries').where({ workspace_id: ws });
    expect(deliveries.map((d) => d.event_type)).toEqual(['drive.change']);
    const channel = control.channels()[0]!;
    const forge = (headers: Record<string, string>) =>
      h.app.inject({
        method: 'POST',
        url: endpointPath,
        headers: {
          'x-goog-channel-id': channel.id,
          'x-goog-resource-id': channel.resourceId,
          'x-goog-resource-state': 'change',
          'x-goog-message-number': '2',
          'x-goog-channel-expiration': new Date(channel.expiration).toUTCString(),
          ...headers,
        },
      });
    const forged = await forge({ 'x-goog-channel-token': 'guessed-token' });
    expect([forged.statusCode, forged.headers['content-type']]).toEqual([401, expect.stringMatching(/problem\+json/)]);
    expect((await forge({})).statusCode).toBe(401);
    const token = (
      await vendor.secrets.read(
        ws,
        (await h.su('webhook_endpoints').where({ integration_id: integrationId }).first()).signing_secret_id,
      )
    ).toString('utf8');
    const stale = await forge({
      'x-goog-channel-token': token,
      'x-goog-channel-expiration': new Date(Date.now() - 60_000).toUTCString(),
    });
    expect(stale.statusCode).toBe(401);
    const replayed = await forge({ 'x-goog-channel-token': token });
    expect([replayed.statusCode, replayed.json()]).toEqual([202, { received: 0, duplicates: 1 }]);
    // The same endpoint path in another workspace does not exist for this token.
    const foreign = await h.app.inject({
      method: 'POST',
      url: endpointPath.replace(ws, crypto.randomUUID()),
      headers: { 'x-goog-channel-token': token, 'x-goog-resource-state': 'change', 'x-goog-message-number': '3' },
    });
    expect(foreign.statusCode).toBe(401);
    expect(await h.su('webhook_deliveries').where({ workspace_id: ws })).toHaveLength(1);

    // Data out through the actions route into the picked folder.
    const service = bearer(await h.token({ workspaceId: ws, role: 'service', sub: 'svc-reports' }));
    const action = await h.app.inject({
      method: 'POST',
      url: `${path}/actions`,
      headers: { ...service, 'idempotency-key': crypto.randomUUID() },
      payload: {
        action: 'picked-folder-export',
        input: { folderId: folder, fileName: 'weekly.csv', contentBase64: Buffer.from('a,b\n').toString('base64') },
      },
    });
    expect(action.statusCode).toBe(202);
    const done = await pollUntil(
      async () => (await h.app.inject({ method: 'GET', url: action.json().links.status, headers: service })).json(),
      (s) => s.status !== 'running' && s.status !== 'accepted',
      30_000,
    );
    expect(done).toMatchObject({ status: 'completed', result: { fileId: expect.any(String) } });
    expect(control.file(done.result.fileId)).toMatchObject({ name: 'weekly.csv', parents: [folder] });

    // Disconnect: the channel is stopped at Google, then the grant revoked; the endpoint is disabled.
    const revokesBefore = google.requestsTo(/^\/revoke$/).length;
    const disconnect = await h.app.inject({ method: 'DELETE', url: path, headers: admin });
    expect(disconnect.statusCode).toBe(202);
    await pollUntil(
      async () => (await h.su('integrations').where({ integration_id: integrationId }).first()).status,
      (s) => s === 'disconnected',
      30_000,
    );
    expect(control.unstoppedChannels()).toEqual([]);
    expect(
      google
        .requestsTo(/^\/revoke$/)
        .slice(revokesBefore)
        .map((r) => r.status),
    ).toEqual([200]);
    expect(google.emulator.requests.some((r) => r.path.includes(unpicked!))).toBe(false);
  }, 120_000);

  it('T8 [google-drive]: the channel token rotates by opening a new channel with the new token and stopping the old one; changes keep arriving, the old token verifies during the grace window and is refused after it', async () => {
    const { control } = google.emulator;
    const plan = control.addFile({ name: 'S-200 plan.pdf' });
    control.pick([plan]);
    const ws = crypto.randomUUID();
    const { integrationId } = await connectThroughApi(ws, 'google-drive', { files: [plan] });
    const ours = () => control.channels().filter((channel) => channel.address.includes(`/${ws}/`));
    const [before] = ours();
    expect(ours()).toHaveLength(1);
    const endpointPath = new URL(before!.address).pathname;
    const secretOf = async (state: string) => {
      const row = await h.su('secrets').where({ integration_id: integrationId, kind: 'webhook-secret', state }).first();
      return (await vendor.secrets.read(ws, row.secret_id)).toString('utf8');
    };
    const oldToken = await secretOf('current');
    let message = 100;
    /** A change message on `channel` carrying `token`, as Drive sends one (a new message number each). */
    const pushWith = (channel: { id: string; resourceId: string; expiration: number }, token: string) =>
      h.app.inject({
        method: 'POST',
        url: endpointPath,
        headers: {
          'x-goog-channel-id': channel.id,
          'x-goog-resource-id': channel.resourceId,
          'x-goog-resource-state': 'change',
          'x-goog-message-number': String((message += 1)),
          'x-goog-channel-expiration': new Date(channel.expiration).toUTCString(),
          'x-goog-channel-token': token,
        },
      });

    const rotation = await server.client.workflow.start('rotateSecretWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: workflowIds.rotate(ws, integrationId),
      args: [
        {
          workspaceId: ws,
          integrationId,
          vendor: 'google-drive',
          kind: 'webhook-secret',
          actor: { type: 'user', id: 'admin-1' },
          gracePeriodMs: 4_000,
        },
      ],
    });
    await pollUntil(
      () => rotation.query(rotationStateQuery),
      (s) => s.status === 'grace-period',
      30_000,
    );
    const newToken = await secretOf('current');
    expect(newToken).not.toBe(oldToken);
    // One live channel: a new one, at the same endpoint; the old one is stopped at Google.
    const [after] = ours();
    expect(ours()).toHaveLength(1);
    expect(after!.id).not.toBe(before!.id);
    expect(after!.address).toBe(before!.address);
    expect(control.unstoppedChannels().map((c) => c.id)).not.toContain(before!.id);
    expect(
      await h.su('vendor_subscriptions').where({ integration_id: integrationId }).pluck('external_id'),
    ).toHaveLength(1);
    // Drive keeps delivering changes on the new channel (with the new token): accepted.
    const deliveredBefore = (await control.deliveries()).length;
    control.renameFile(plan, 'S-200 plan rev 2.pdf');
    const delivered = await pollUntil(
      async () => (await control.deliveries()).slice(deliveredBefore),
      (d) => d.some((x) => x.state === 'change'),
      30_000,
    );
    expect(delivered.filter((d) => d.state === 'change').map((d) => `${d.channelId} ${d.status}`)).toEqual([
      `${after!.id} 202`,
    ]);
    // A message the old channel sent before it stopped (a retry) still verifies during the window.
    expect((await pushWith(before!, oldToken)).statusCode).toBe(202);
    expect(await rotation.result()).toEqual({ status: 'rotated', newVersion: 2 });
    expect((await pushWith(before!, oldToken)).statusCode).toBe(401);
    expect((await pushWith(after!, newToken)).statusCode).toBe(202);
  }, 120_000);

  it('T1 T2 T4 T5 T9 T18 T19 [google-workspace]: sign-in through the API keeps the opaque subject, syncs and sends nothing, and disconnect revokes it', async () => {
    const ws = crypto.randomUUID();
    const { integrationId, path, admin } = await connectThroughApi(ws, 'google-workspace', {
      tenant: ['acme.example'],
    });
    expect(await h.su('cached_records').where({ integration_id: integrationId })).toEqual([]);
    expect(await h.su('webhook_endpoints').where({ integration_id: integrationId })).toEqual([]);
    const service = bearer(await h.token({ workspaceId: ws, role: 'service', sub: 'svc-reports' }));
    const action = await h.app.inject({
      method: 'POST',
      url: `${path}/actions`,
      headers: service,
      payload: { action: 'picked-folder-export', input: {} },
    });
    expect(action.statusCode).toBe(422);
    const revokesBefore = google.requestsTo(/^\/revoke$/).length;
    expect((await h.app.inject({ method: 'DELETE', url: path, headers: admin })).statusCode).toBe(202);
    await pollUntil(
      async () => (await h.su('integrations').where({ integration_id: integrationId }).first()).status,
      (s) => s === 'disconnected',
      30_000,
    );
    expect(
      google
        .requestsTo(/^\/revoke$/)
        .slice(revokesBefore)
        .map((r) => r.status),
    ).toEqual([200]);
  }, 90_000);
});
