/**
 * The Okta row end to end through the real workflows on the dev server: connect (OIDC sign-in at
 * the emulated customer org with PKCE, callback Update) → the consent ledger → the lifecycle (an
 * identity row: nothing synced, subscribed, refreshed or rotated) → disconnect (the sign-in's access
 * token revoked at the org) → purge with a receipt, on the real openid-client connector and real Postgres.
 */
import type { Worker } from '@temporalio/worker';
import { OKTA_MATRIX_SCOPE, oktaDescriptor } from '../../activities/vendors/okta';
import { opaqueGroupId } from '../../activities/vendors/okta/signIn';
import { integrationStateQuery, oauthCallbackUpdate, workflowIds } from '../../workflows/definitions';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';
import { REDIRECT_URI, startOktaHarness, type OktaHarness } from '../vendors/okta/harness';
import { createVendorHarness, type VendorHarness } from './support/harness';
import { ADMIN, pollUntil, seedWorkspace, startConnect } from './support/workflowHelpers';

describe('Okta end to end (dev server, Okta org emulator, real Postgres)', () => {
  let okta: OktaHarness;
  let h: VendorHarness;
  let server: Awaited<ReturnType<typeof devServer>>;
  let worker: Worker;
  let workerDone: Promise<void>;
  let taskQueue: string;

  beforeAll(async () => {
    [okta, server] = await Promise.all([startOktaHarness(), devServer()]);
    h = createVendorHarness([{ descriptor: oktaDescriptor, connector: okta.connector }]);
    taskQueue = uniqueTaskQueue('okta-e2e');
    worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
    workerDone = worker.run();
  });
  afterAll(async () => {
    worker?.shutdown();
    await workerDone;
    await server?.close();
    await h?.close();
    await okta?.stop();
  });

  it('T1 T4 T5 T9 T18 T19 [okta]: sign-in at the customer org connects with identity ids only, the consent is in the ledger, nothing is synced or rotated, disconnect revokes at the org and the purge leaves a receipt', async () => {
    const { emulator } = okta;
    const workspaceId = await seedWorkspace(h);
    const requestsBefore = emulator.requests.length;

    const { handle, integrationId, state, authorizeUrl } = await startConnect(server.client, taskQueue, {
      workspaceId,
      vendor: 'okta',
      requestedScopes: [OKTA_MATRIX_SCOPE],
      controls: okta.controls,
      redirectUri: REDIRECT_URI,
    });
    // T5, T18: the admin's own org, exactly openid + groups, S256.
    expect(`${authorizeUrl.origin}${authorizeUrl.pathname}`).toBe(`${emulator.url}/oauth2/v1/authorize`);
    expect(authorizeUrl.searchParams.get('scope')).toBe('openid groups');
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    const callback = await okta.consent(authorizeUrl.toString());
    expect(callback.searchParams.get('state')).toBe(state);
    await handle.executeUpdate(oauthCallbackUpdate, {
      args: [{ state, code: callback.searchParams.get('code')!, consentedBy: ADMIN }],
    });
    const connected = await handle.result();
    expect({ status: connected.status, failure: connected.failure }).toEqual({
      status: 'connected',
      failure: undefined,
    });
    expect(connected.grantedScopes).toEqual([OKTA_MATRIX_SCOPE]);

    // T9, T19: what is stored is the sign-in token and opaque ids, no name, login or group name.
    const ref = { workspaceId, integrationId };
    const secretId = (await h.secrets.current(workspaceId, integrationId, 'oauth-tokens'))!.secretId;
    const stored = JSON.parse((await h.secrets.read(workspaceId, secretId)).toString('utf8'));
    const org = { url: new URL(emulator.url), clientId: emulator.clientId };
    expect(stored.metadata).toEqual({
      orgUrl: emulator.url,
      subject: emulator.user.id,
      groups: emulator.user.groups.map((name) => opaqueGroupId(org, name)).join(','),
    });
    expect(stored.refreshToken).toBeUndefined();
    for (const personal of [emulator.user.login, emulator.user.name, ...emulator.user.groups])
      expect(JSON.stringify(stored)).not.toContain(personal);
    expect(emulator.control.accessTokenActive(stored.accessToken)).toBe(true);

    // T2: the consent ledger names who consented, to what, under which controls.
    const ledger = await h.admin('consent_events').where({ integration_id: integrationId }).orderBy('id');
    expect(ledger.map((entry) => [entry.action, entry.actor_id, entry.scopes, entry.controls])).toEqual([
      ['granted', ADMIN.id, [OKTA_MATRIX_SCOPE], okta.controls],
    ]);

    // The lifecycle: an identity row has nothing to sync, subscribe, refresh or rotate.
    const lifecycle = server.client.workflow.getHandle(workflowIds.lifecycle(workspaceId, integrationId));
    const live = await pollUntil(
      () => lifecycle.query(integrationStateQuery),
      (s) => s.status === 'connected',
    );
    expect([live.nextTokenRefreshAt, live.nextRotationAt, live.subscriptions]).toEqual([undefined, undefined, []]);
    expect(await h.admin('cached_records').where({ integration_id: integrationId })).toEqual([]);
    // T19: the org saw the sign-in and nothing else (discovery, keys, authorize, token: no user or group API).
    const paths = new Set(emulator.requests.slice(requestsBefore).map((r) => r.path));
    expect([...paths].filter((path) => path.startsWith('/api/'))).toEqual([]);

    // T4: disconnect revokes the token at the org, destroys it here, and the purge leaves a receipt.
    const disconnected = await server.client.workflow.execute('disconnectWorkflow', {
      taskQueue,
      workflowId: workflowIds.disconnect(workspaceId, integrationId),
      args: [{ ...ref, actor: ADMIN, purgeDelayMs: 1_000 }],
    });
    expect(disconnected).toMatchObject({ revokedAtVendor: true });
    expect(emulator.control.accessTokenActive(stored.accessToken)).toBe(false);
    const receipt = await h.admin('purge_receipts').where({ receipt_id: disconnected.receiptId }).first();
    expect(receipt).toMatchObject({ integration_id: integrationId, vendor: 'okta' });
    const secrets = await h.admin('secrets').where({ integration_id: integrationId });
    expect(secrets.every((s) => s.state === 'destroyed' && s.ciphertext === null)).toBe(true);
    const audit = await h.admin('audit_log').where({ integration_id: integrationId }).pluck('action');
    expect(audit).toEqual(
      expect.arrayContaining(['oidc.exchange-code', 'integration.connected', 'oauth.revoke', 'integration.purged']),
    );
  }, 60_000);
});
