/**
 * The two Google rows end to end through the real workflows on the dev server, with the real
 * `@googleapis/drive` / `google-auth-library` connector, the Google emulator and real Postgres:
 * connect (PKCE consent, callback Update) → consent ledger → first sync → incremental sync →
 * channel renewal → data out → restrict → rotation (Google refresh) → disconnect (channel stopped while
 * the grant works, then the grant revoked at /revoke, endpoint disabled) → purge receipt.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { WorkflowFailedError } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { googleDescriptors } from '../../activities/vendors/google';
import { requestSync } from '@trackproject/integrations-client/client';
import {
  consentChangeUpdate,
  integrationStateQuery,
  oauthCallbackUpdate,
  workflowIds,
  type VendorActionInput,
} from '../../workflows/definitions';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';
import { REDIRECT_URI, startGoogleHarness, type GoogleHarness } from '../vendors/google/harness';
import { createVendorHarness, type VendorHarness } from './support/harness';
import { ADMIN, pollUntil, seedWorkspace, startConnect } from './support/workflowHelpers';

/** Drive's push messages land here (the API's receiver has its own journey test): answered 200, counted. */
async function startChannelReceiver() {
  const states: string[] = [];
  const server = http.createServer((req, res) => {
    states.push(String(req.headers['x-goog-resource-state']));
    res.writeHead(200).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    states,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('Google end to end (dev server, Google emulator, real Postgres)', () => {
  let google: GoogleHarness;
  let receiver: Awaited<ReturnType<typeof startChannelReceiver>>;
  let h: VendorHarness;
  let server: Awaited<ReturnType<typeof devServer>>;
  let worker: Worker;
  let workerDone: Promise<void>;
  let taskQueue: string;

  beforeAll(async () => {
    [google, receiver, server] = await Promise.all([startGoogleHarness(), startChannelReceiver(), devServer()]);
    h = createVendorHarness(
      Object.values(googleDescriptors).map((descriptor) => ({ descriptor, connector: google.connector })),
      { webhookBaseUrl: receiver.url },
    );
    taskQueue = uniqueTaskQueue('google-e2e');
    worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
    workerDone = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await workerDone;
    await server?.close();
    await h?.close();
    await Promise.all([google?.stop(), receiver?.stop()]);
  });

  /** Connect through the connect workflow: consent at the emulator, then the callback Update. */
  async function connect(vendor: 'google-drive' | 'google-workspace', controls: Record<string, string[]>) {
    const workspaceId = await seedWorkspace(h);
    const { handle, integrationId, state, authorizeUrl } = await startConnect(server.client, taskQueue, {
      workspaceId,
      vendor,
      requestedScopes: [...googleDescriptors[vendor].scopes.required],
      controls,
      redirectUri: REDIRECT_URI,
    });
    expect(authorizeUrl.origin).toBe(new URL(google.emulator.url).origin);
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    const consent = await fetch(authorizeUrl, { redirect: 'manual' });
    const callback = new URL(consent.headers.get('location')!);
    expect(callback.searchParams.get('state')).toBe(state);
    await handle.executeUpdate(oauthCallbackUpdate, { args: [{ state, code: callback.searchParams.get('code')! }] });
    const ref = { workspaceId, integrationId };
    const lifecycle = server.client.workflow.getHandle(workflowIds.lifecycle(workspaceId, integrationId));
    return { ref, result: await handle.result(), lifecycle };
  }

  const cachedNames = async (integrationId: string) =>
    Object.fromEntries(
      (await h.admin('cached_records').where({ integration_id: integrationId }).select('external_id', 'payload')).map(
        (r) => [r.external_id as string, String(r.payload.name)],
      ),
    );

  async function disconnect(ref: { workspaceId: string; integrationId: string }) {
    return server.client.workflow.execute('disconnectWorkflow', {
      taskQueue,
      workflowId: workflowIds.disconnect(ref.workspaceId, ref.integrationId),
      args: [{ ...ref, actor: ADMIN, purgeDelayMs: 1_000 }],
    });
  }

  async function expectPurged(integrationId: string, receiptId: string, vendor: string) {
    expect(await h.admin('purge_receipts').where({ receipt_id: receiptId }).first()).toMatchObject({
      integration_id: integrationId,
      vendor,
    });
    expect(await h.admin('cached_records').where({ integration_id: integrationId })).toEqual([]);
    const secrets = await h.admin('secrets').where({ integration_id: integrationId });
    expect(secrets.length).toBeGreaterThan(0);
    expect(secrets.every((s) => s.state === 'destroyed' && s.ciphertext === null)).toBe(true);
  }

  it('T1 T2 T4 T5 T8 T11 T15 T18 T19 [google-drive]: connect → picks synced → changes feed → channel renewed → export into the picked folder → restrict → rotate → disconnect (channel stopped before the grant is revoked, endpoint disabled) → purge; an unpicked file is never requested', async () => {
    const { control } = google.emulator;
    const folder = control.addFolder('Tower A exports');
    const [planA, planB, hr] = ['A-101 plan.pdf', 'A-201 section.pdf', 'HR salaries.xlsx'].map((name) =>
      control.addFile({ name }),
    );
    control.pick([folder, planA!, planB!]);
    const since = google.emulator.requests.length;
    const tokenCalls = (grantType: string) =>
      google.requestsTo(/^\/token$/, since).filter((r) => (r.body as Record<string, string>).grant_type === grantType);

    const { ref, result, lifecycle } = await connect('google-drive', { files: [folder, planA!, planB!] });
    expect({ status: result.status, grantedScopes: result.grantedScopes }).toEqual({
      status: 'connected',
      grantedScopes: ['drive.file'],
    });
    const consents = await h.admin('consent_events').where({ integration_id: ref.integrationId }).select('action');
    expect(consents.map((c) => c.action)).toEqual(['granted']);

    // First sync: the picks, nothing else (T18).
    await pollUntil(
      () => lifecycle.query(integrationStateQuery),
      (s) => s.lastSync?.state === 'completed',
      30_000,
    );
    expect(await cachedNames(ref.integrationId)).toEqual({
      [folder]: 'Tower A exports',
      [planA!]: 'A-101 plan.pdf',
      [planB!]: 'A-201 section.pdf',
    });
    // A push channel on the changes feed, opened with our endpoint's token; its sync message arrived.
    const [channel] = await h.admin('vendor_subscriptions').where({ integration_id: ref.integrationId });
    expect(channel.resource).toBe('changes');
    expect(new Date(channel.expires_at).getTime() - Date.now()).toBeGreaterThan(6.9 * 24 * 3_600_000);
    await pollUntil(
      async () => receiver.states,
      (states) => states.includes('sync'),
    );

    // Incremental: an edit and a deletion arrive through the changes feed (T11).
    control.renameFile(planA!, 'A-101 plan rev B.pdf');
    control.deleteFile(planB!);
    control.renameFile(hr!, 'HR salaries 2027.xlsx');
    const before = (await lifecycle.query(integrationStateQuery)).lastSync?.finishedAt;
    await requestSync(lifecycle, { reason: 'webhook' });
    await pollUntil(
      () => lifecycle.query(integrationStateQuery),
      (s) => s.lastSync?.state === 'completed' && s.lastSync.finishedAt !== before,
      30_000,
    );
    expect(await cachedNames(ref.integrationId)).toEqual({
      [folder]: 'Tower A exports',
      [planA!]: 'A-101 plan rev B.pdf',
    });

    // Renewal: Drive cannot extend a channel: a new one is opened on the same endpoint, the old one stopped.
    await h.activities.renewSubscription({ ...ref, externalId: channel.external_id, resource: channel.resource });
    const [renewed] = await h.admin('vendor_subscriptions').where({ integration_id: ref.integrationId });
    expect(renewed.external_id).not.toBe(channel.external_id);
    expect(control.channels().map((c) => `${c.id} ${c.resourceId}`)).toEqual([renewed.external_id]);
    expect(control.channels()[0]!.address).toMatch(
      new RegExp(`^${receiver.url}/v1/webhooks/google-drive/${ref.workspaceId}/`),
    );

    // Data out (T19) through the vendor-action path: an export into the picked folder.
    const exported = await server.client.workflow.execute('vendorActionWorkflow', {
      taskQueue,
      workflowId: workflowIds.action(ref.workspaceId, ref.integrationId, crypto.randomUUID()),
      args: [
        {
          ...ref,
          vendor: 'google-drive',
          action: 'picked-folder-export',
          input: {
            folderId: folder,
            fileName: 'punch-list.csv',
            contentType: 'text/csv',
            contentBase64: Buffer.from('item,status\n1,open\n').toString('base64'),
          },
          actor: ADMIN,
        } satisfies VendorActionInput,
      ],
    });
    expect(exported).toEqual({ fileId: expect.any(String), webViewLink: expect.stringContaining('drive.google.com') });
    expect(control.file(String(exported.fileId))).toMatchObject({
      name: 'punch-list.csv',
      parents: [folder],
    });

    // Restrict (T17, T18): the admin drops plan A; the full resync forgets it and never asks for it again.
    await lifecycle.executeUpdate(consentChangeUpdate, { args: [{ actor: ADMIN, controls: { files: [folder] } }] });
    await pollUntil(
      () => cachedNames(ref.integrationId),
      (cached) => !(planA! in cached),
      30_000,
    );
    const afterRestrict = google.emulator.requests.length;
    control.renameFile(planA!, 'A-101 plan rev C.pdf');
    const beforeRestrictedSync = (await lifecycle.query(integrationStateQuery)).lastSync?.finishedAt;
    await requestSync(lifecycle, { reason: 'webhook' });
    await pollUntil(
      () => lifecycle.query(integrationStateQuery),
      (s) => s.lastSync?.state === 'completed' && s.lastSync.finishedAt !== beforeRestrictedSync,
      30_000,
    );
    expect(await cachedNames(ref.integrationId)).toEqual({ [folder]: 'Tower A exports' });
    expect(google.requestsTo(new RegExp(`/files/${planA}`), afterRestrict)).toEqual([]);

    // Rotation (T8): a Google refresh (the refresh token stays) → test → promote → retire.
    const rotation = await server.client.workflow.execute('rotateSecretWorkflow', {
      taskQueue,
      workflowId: workflowIds.rotate(ref.workspaceId, ref.integrationId),
      args: [{ ...ref, vendor: 'google-drive', kind: 'oauth-tokens', actor: ADMIN, gracePeriodMs: 1_000 }],
    });
    expect(rotation).toEqual({ status: 'rotated', newVersion: 2 });
    expect(tokenCalls('refresh_token')).toHaveLength(1);

    // Disconnect (T4): every channel is stopped while the grant still works, then the grant is revoked,
    // and our endpoint disabled. A 204 from channels.stop is Google accepting the grant's token.
    const [open] = await h.admin('vendor_subscriptions').where({ integration_id: ref.integrationId });
    const beforeDisconnect = google.emulator.requests.length;
    const disconnected = await disconnect(ref);
    expect(disconnected).toMatchObject({ revokedAtVendor: true });
    const teardown = google.requestsTo(/^\/(drive\/v3\/channels\/stop|revoke)$/, beforeDisconnect);
    expect(teardown.map((r) => `${r.path} ${r.status}`)).toEqual(['/drive/v3/channels/stop 204', '/revoke 200']);
    expect(
      `${(teardown[0]!.body as { id: string }).id} ${(teardown[0]!.body as { resourceId: string }).resourceId}`,
    ).toBe(open.external_id);
    // Stopped at Google, not merely dead because of the revocation, and none of ours left behind.
    expect(control.unstoppedChannels()).toEqual([]);
    expect(await h.admin('vendor_subscriptions').where({ integration_id: ref.integrationId })).toEqual([]);
    expect(
      await h.admin('webhook_endpoints').where({ integration_id: ref.integrationId }).whereNull('disabled_at'),
    ).toEqual([]);
    await expectPurged(ref.integrationId, disconnected.receiptId, 'google-drive');

    // Across the whole journey, the file that was never picked was never requested.
    expect(google.emulator.requests.slice(since).some((r) => r.path.includes(hr!))).toBe(false);
    const audit = await h.admin('audit_log').where({ integration_id: ref.integrationId }).pluck('action');
    expect(audit).toEqual(
      expect.arrayContaining([
        'oauth.exchange-code',
        'integration.connected',
        'channels.watch',
        'files.get',
        'changes.list',
        'files.create',
        'oauth.refresh',
        'channels.stop',
        'oauth.revoke',
        'integration.purged',
      ]),
    );
  }, 120_000);

  it('T1 T2 T4 T5 T9 T15 T18 T19 [google-workspace]: sign-in keeps the opaque subject only, syncs and sends nothing, a forced rotation asks for a new sign-in, disconnect revokes the grant and purges', async () => {
    const { ref, result, lifecycle } = await connect('google-workspace', { tenant: ['acme.example'] });
    expect({ status: result.status, grantedScopes: [...result.grantedScopes].sort() }).toEqual({
      status: 'connected',
      grantedScopes: ['email', 'openid', 'profile'],
    });
    const stored = JSON.parse(
      (
        await h.secrets.read(
          ref.workspaceId,
          (await h.secrets.current(ref.workspaceId, ref.integrationId, 'oauth-tokens'))!.secretId,
        )
      ).toString('utf8'),
    );
    expect(stored.metadata).toEqual({ subject: '108234567890123456789' });
    expect(JSON.stringify(stored)).not.toMatch(/ana\.site-lead|Ana Site-Lead/);
    expect(stored.refreshToken).toBeUndefined();
    await pollUntil(
      () => lifecycle.query(integrationStateQuery),
      (s) => s.lastSync?.state === 'completed',
      30_000,
    );
    expect(await h.admin('cached_records').where({ integration_id: ref.integrationId })).toEqual([]);
    expect(await h.admin('vendor_subscriptions').where({ integration_id: ref.integrationId })).toEqual([]);

    const rotation = await server.client.workflow
      .execute('rotateSecretWorkflow', {
        taskQueue,
        workflowId: workflowIds.rotate(ref.workspaceId, ref.integrationId),
        args: [{ ...ref, vendor: 'google-workspace', kind: 'oauth-tokens', actor: ADMIN, gracePeriodMs: 1_000 }],
      })
      .catch((error: unknown) => error);
    expect(rotation).toBeInstanceOf(WorkflowFailedError);
    expect((rotation as WorkflowFailedError).cause?.cause).toMatchObject({ type: 'ReauthorizationRequired' });

    const revokesBefore = google.requestsTo(/^\/revoke$/).length;
    const disconnected = await disconnect(ref);
    expect(disconnected).toMatchObject({ revokedAtVendor: true });
    expect(
      google
        .requestsTo(/^\/revoke$/)
        .slice(revokesBefore)
        .map((r) => r.status),
    ).toEqual([200]);
    await expectPurged(ref.integrationId, disconnected.receiptId, 'google-workspace');
  }, 60_000);

  it('T9 T18 [google-workspace]: a sign-in from outside the customer’s domain fails the connect and leaves no credential', async () => {
    google.emulator.control.addUser({ subject: '3001', email: 'eve@rival.example', name: 'Eve', hd: 'rival.example' });
    google.emulator.control.signIn('3001');
    try {
      const { ref, result } = await connect('google-workspace', { tenant: ['acme.example'] });
      expect(result.status).not.toBe('connected');
      const current = await h.secrets.current(ref.workspaceId, ref.integrationId, 'oauth-tokens');
      expect(current).toBeUndefined();
    } finally {
      google.emulator.control.signIn('108234567890123456789');
    }
  }, 60_000);
});
