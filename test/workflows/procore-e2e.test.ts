/**
 * Procore end to end through the real workflows on the dev server: connect (consent at the Procore
 * emulator, state + exact redirect, no PKCE; callback Update) → the lifecycle's first sync of the
 * selected projects only → an incremental "sync now" → an RFI status update (data out, enabled by
 * the admin) → rotation (single-use refresh token) → disconnect (hooks deleted, /oauth/revoke) →
 * purge, with the real @procore/js-sdk connector and real Postgres. Then: two refreshes of one
 * integration at once, against an emulator that refuses any reused refresh token.
 */
import crypto from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { PROCORE_READ, PROCORE_STATUS_UPDATES, procoreDescriptor } from '../../activities/vendors/procore';
import { VendorError, VendorFailureType } from '../../activities/vendors/errors';
import { integrationStateQuery, oauthCallbackUpdate, workflowIds } from '../../workflows/definitions';
import { requestSync } from '@trackproject/integrations-client/client';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';
import { REDIRECT_URI, startProcoreHarness, type ProcoreHarness } from '../vendors/procore/harness';
import { createVendorHarness, type VendorHarness } from './support/harness';
import { ADMIN, pollUntil, seedWorkspace, startConnect } from './support/workflowHelpers';

describe('Procore end to end (dev server, Procore emulator, real Postgres)', () => {
  let procore: ProcoreHarness;
  let h: VendorHarness;
  beforeAll(async () => {
    procore = await startProcoreHarness();
    h = createVendorHarness([{ descriptor: procoreDescriptor, connector: procore.connector }]);
  });
  afterAll(async () => {
    await h.close();
    await procore.emulator.stop();
  });

  /** Project ids any API request named (path, query or body). */
  const projectsRequested = () =>
    procore.emulator.control.requests
      .filter((r) => r.path.startsWith('/rest/'))
      .flatMap((r) =>
        [
          /\/projects\/(\d+)/.exec(r.path)?.[1],
          r.query.project_id,
          (r.body as { project_id?: number } | undefined)?.project_id,
        ].filter((id) => id !== undefined),
      )
      .map(Number);

  it('T1 T2 T4 T8 T11 T15 T18 T19 [procore]: connect → sync (selected projects only) → incremental sync → status update → rotate → disconnect (hooks deleted, grant revoked) → purge', async () => {
    const { control } = procore.emulator;
    const { tower, depot, office } = procore.projects;
    const towerRfis = Array.from({ length: 12 }, (_u, i) =>
      control.addItem(tower.id, 'rfis', { number: String(i), subject: `tower rfi ${i}`, status: 'open' }),
    );
    for (let i = 0; i < 3; i++)
      control.addItem(depot.id, 'drawings', { number: `D-${i}`, title: `depot drawing ${i}` });
    control.addItem(office.id, 'rfis', { number: '1', subject: 'office rfi', status: 'open' });
    const selection = [String(tower.id), String(depot.id)];
    const tokenCalls = () => control.requests.filter((r) => r.path === '/oauth/token');
    const workspaceId = await seedWorkspace(h);
    const server = await devServer();
    const taskQueue = uniqueTaskQueue('procore-e2e');
    const worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
    try {
      await worker.runUntil(async () => {
        // Connect: the admin enables data out (the optional permission) and selects two projects.
        const { handle, integrationId, state, authorizeUrl } = await startConnect(server.client, taskQueue, {
          workspaceId,
          vendor: 'procore',
          requestedScopes: [PROCORE_READ, PROCORE_STATUS_UPDATES],
          controls: { projects: selection },
          redirectUri: REDIRECT_URI,
        });
        expect(authorizeUrl.origin).toBe(new URL(procore.emulator.url).origin);
        expect(authorizeUrl.searchParams.has('code_challenge')).toBe(false);
        expect(authorizeUrl.searchParams.has('scope')).toBe(false);
        const consent = await fetch(authorizeUrl, { redirect: 'manual' });
        const callback = new URL(consent.headers.get('location')!);
        expect(callback.searchParams.get('state')).toBe(state);
        await handle.executeUpdate(oauthCallbackUpdate, {
          args: [{ state, code: callback.searchParams.get('code')! }],
        });
        expect(await handle.result()).toMatchObject({
          status: 'connected',
          grantedScopes: [PROCORE_READ, PROCORE_STATUS_UPDATES],
        });
        const ref = { workspaceId, integrationId };
        const cached = async (resource: string) =>
          (await h.admin('cached_records').where({ integration_id: integrationId, resource }).select('payload')).map(
            (r) => r.payload as Record<string, unknown>,
          );

        // The lifecycle's first sync: every resource, the selected projects only (T18).
        const lifecycle = server.client.workflow.getHandle(workflowIds.lifecycle(workspaceId, integrationId));
        await pollUntil(
          () => lifecycle.query(integrationStateQuery),
          (s) => s.lastSync?.state === 'completed',
          60_000,
        );
        expect((await cached('rfis')).map((r) => r.subject).sort()).toEqual(
          towerRfis.map((r) => r.fields.subject).sort(),
        );
        expect(await cached('drawings')).toHaveLength(3);
        expect((await cached('projects')).map((p) => p.name).sort()).toEqual(['Depot', 'Tower A']);
        // One hook per selected project.
        expect(
          control
            .hooks()
            .map((hook) => hook.projectId)
            .sort(),
        ).toEqual([tower.id, depot.id].sort());

        // Incremental "sync now": an edit in Tower A arrives, a new RFI of the office does not.
        control.clock.advance(60_000);
        control.updateItem(towerRfis[1]!.id, { subject: 'tower rfi 1 answered' });
        control.addItem(office.id, 'rfis', { number: '2', subject: 'office rfi late' });
        const lastSyncBefore = (await lifecycle.query(integrationStateQuery)).lastSync?.finishedAt;
        const incrementalFrom = control.requests.length;
        await requestSync(lifecycle, { reason: 'admin' });
        await pollUntil(
          () => lifecycle.query(integrationStateQuery),
          (s) => s.lastSync?.state === 'completed' && s.lastSync.finishedAt !== lastSyncBefore,
          60_000,
        );
        expect((await cached('rfis')).map((r) => r.subject)).toContain('tower rfi 1 answered');
        expect((await cached('rfis')).some((r) => String(r.subject).startsWith('office'))).toBe(false);
        const rfiLists = control.requests.slice(incrementalFrom).filter((r) => r.path.endsWith('/rfis'));
        expect(rfiLists.length).toBeGreaterThan(0);
        expect(rfiLists.every((r) => r.query['filters[updated_at]'] !== undefined)).toBe(true);

        // Data out (T19): the RFI's status, through vendorActionWorkflow.
        const changed = await server.client.workflow.execute('vendorActionWorkflow', {
          taskQueue,
          workflowId: workflowIds.action(workspaceId, integrationId, crypto.randomUUID()),
          args: [
            {
              ...ref,
              vendor: 'procore',
              action: 'status-update',
              input: { projectId: String(tower.id), rfiId: String(towerRfis[2]!.id), status: 'closed' },
              actor: ADMIN,
            },
          ],
        });
        expect(changed).toMatchObject({ externalId: String(towerRfis[2]!.id), status: 'closed' });
        expect(control.item(towerRfis[2]!.id)!.fields.status).toBe('closed');

        // Rotation (T8): one refresh with the single-use token → test → promote → retire.
        const refreshesBefore = tokenCalls().length;
        const rotation = await server.client.workflow.execute('rotateSecretWorkflow', {
          taskQueue,
          workflowId: workflowIds.rotate(workspaceId, integrationId),
          args: [{ ...ref, vendor: 'procore', kind: 'oauth-tokens', actor: ADMIN, gracePeriodMs: 1_000 }],
        });
        expect(rotation).toEqual({ status: 'rotated', newVersion: 2 });
        expect(
          tokenCalls()
            .slice(refreshesBefore)
            .map((r) => `${(r.body as { grant_type?: string }).grant_type} ${r.status}`),
        ).toEqual(['refresh_token 200']);
        expect(
          await h
            .admin('secrets')
            .where({ integration_id: integrationId, kind: 'oauth-tokens' })
            .orderBy('version')
            .pluck('state'),
        ).toEqual(['retired', 'current']);

        // Disconnect (T4): our hooks are deleted with the live token, then /oauth/revoke.
        const revokedBefore = control.revokedTokens();
        const disconnected = await server.client.workflow.execute('disconnectWorkflow', {
          taskQueue,
          workflowId: workflowIds.disconnect(workspaceId, integrationId),
          args: [{ ...ref, actor: ADMIN, purgeDelayMs: 1_000 }],
        });
        expect(disconnected).toMatchObject({ revokedAtVendor: true, vendorNote: procoreDescriptor.revocation.note });
        expect(control.revokedTokens()).toBe(revokedBefore + 1);
        expect(control.hooks()).toEqual([]);
        const receipt = await h.admin('purge_receipts').where({ receipt_id: disconnected.receiptId }).first();
        expect(receipt).toMatchObject({ integration_id: integrationId, vendor: 'procore' });
        expect(await lifecycle.describe().then((d) => d.status.name)).not.toBe('RUNNING');
      });
    } finally {
      await server.close();
    }
    // Nothing about the unselected project was ever requested (T18).
    expect(projectsRequested()).not.toContain(office.id);
    const integrationId = (await h.admin('integrations').where({ workspace_id: workspaceId }).first()).integration_id;
    expect(await h.admin('cached_records').where({ integration_id: integrationId })).toEqual([]);
    const secrets = await h.admin('secrets').where({ integration_id: integrationId });
    expect(secrets.every((s) => s.state === 'destroyed' && s.ciphertext === null)).toBe(true);
    const audit = await h.admin('audit_log').where({ integration_id: integrationId }).pluck('action');
    expect(audit).toEqual(
      expect.arrayContaining([
        'oauth.exchange-code',
        'companies.list',
        'integration.connected',
        'webhooks.register',
        'rfis.list',
        'status-update',
        'oauth.refresh',
        'secret.promoted',
        'webhooks.delete',
        'oauth.revoke',
        'integration.purged',
      ]),
    );
  }, 180_000);

  /** A connected Procore integration with its credential stored as the current secret. */
  async function seedConnected(): Promise<{ workspaceId: string; integrationId: string }> {
    const credential = await procore.connect();
    const ref = { workspaceId: await seedWorkspace(h), integrationId: crypto.randomUUID() };
    await h.admin('integrations').insert({
      integration_id: ref.integrationId,
      workspace_id: ref.workspaceId,
      vendor: 'procore',
      status: 'connected',
      requested_scopes: [PROCORE_READ],
      granted_scopes: [PROCORE_READ],
      controls: JSON.stringify({ projects: [String(procore.projects.tower.id)] }),
      connected_by: ADMIN.id,
      connected_at: new Date(),
    });
    await h.secrets.put({
      ...ref,
      kind: 'oauth-tokens',
      state: 'current',
      plaintext: JSON.stringify(credential),
      expiresAt: new Date(credential.expiresAt!),
    });
    return ref;
  }

  it('T4 [procore]: two refreshes of one integration at once lose no grant: they are serialised, each presents the refresh token the other left, and the stored pair works', async () => {
    const { control } = procore.emulator;
    const refreshes = () =>
      control.requests.filter(
        (r) => r.path === '/oauth/token' && (r.body as { grant_type?: string }).grant_type === 'refresh_token',
      );
    // Without the lock: the same pair refreshed twice at once, and the emulator refuses the reuse.
    const credential = await procore.connect();
    const unserialised = await Promise.allSettled([
      procore.connector.refresh(procore.context(credential)),
      procore.connector.refresh(procore.context(credential)),
    ]);
    const lost = unserialised.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(lost).toHaveLength(1);
    expect(lost[0]!.reason).toBeInstanceOf(VendorError);
    expect((lost[0]!.reason as VendorError).type).toBe(VendorFailureType.ReauthorizationRequired);

    // Through the activities: the refresh lock serialises them.
    const ref = await seedConnected();
    const before = refreshes().length;
    const refresh = () =>
      new MockActivityEnvironment().run(h.activities.refreshTokens, ref) as Promise<{ expiresAt?: number }>;
    const [a, b] = await Promise.all([refresh(), refresh()]);
    expect(a.expiresAt).toBeDefined();
    expect(b.expiresAt).toBeDefined();
    const presented = refreshes()
      .slice(before)
      .map((r) => `${(r.body as { refresh_token: string }).refresh_token} ${r.status}`);
    expect(presented).toHaveLength(2);
    expect(presented.every((line) => line.endsWith(' 200'))).toBe(true);
    expect(new Set(presented.map((line) => line.split(' ')[0])).size).toBe(2);
    const states = await h
      .admin('secrets')
      .where({ integration_id: ref.integrationId, kind: 'oauth-tokens' })
      .orderBy('version')
      .pluck('state');
    expect(states).toEqual(['retired', 'retired', 'current']);
    // The stored pair is the live one: it calls and it refreshes again.
    await refresh();
  }, 60_000);

  it('T4 T8 [procore]: a rotation’s refresh and the lifecycle’s refresh never present one single-use refresh token twice: a refresh after the rotation’s promotes the rotation’s fresh pair, and the rotation still completes', async () => {
    const { control } = procore.emulator;
    const refreshRequests = () =>
      control.requests.filter(
        (r) => r.path === '/oauth/token' && (r.body as { grant_type?: string }).grant_type === 'refresh_token',
      );
    /** The refresh tokens presented since `from`, each with Procore's answer. */
    const presented = (from: number) =>
      refreshRequests()
        .slice(from)
        .map((r) => `${(r.body as { refresh_token: string }).refresh_token} ${r.status}`);
    const run = <I, O>(activity: (input: I) => Promise<O>, input: I): Promise<O> =>
      new MockActivityEnvironment().run(activity, input) as Promise<O>;
    const tokenStates = (integrationId: string) =>
      h
        .admin('secrets')
        .where({ integration_id: integrationId, kind: 'oauth-tokens' })
        .orderBy('version')
        .pluck('state');
    const rotate = async (ref: { workspaceId: string; integrationId: string }) => {
      const prepared = await run(h.activities.prepareRotation, { ...ref, kind: 'oauth-tokens' as const, actor: ADMIN });
      return {
        prepared,
        async complete() {
          await run(h.activities.testPendingSecret, { ...ref, secretId: prepared.pendingSecretId! });
          await run(h.activities.promoteSecret, { ...ref, secretId: prepared.pendingSecretId! });
          await run(h.activities.retireSecret, {
            ...ref,
            secretId: prepared.previousSecretId!,
            reason: 'grace-period-over' as const,
          });
        },
      };
    };

    // The rotation refreshed (its pair is pending, the current refresh token is spent), then the
    // lifecycle's refresh comes before the rotation's promotion: it adopts the rotation's fresh pair
    // and presents nothing, and the rotation's remaining steps find their work done.
    const first = await seedConnected();
    const firstFrom = refreshRequests().length;
    const rotation = await rotate(first);
    await run(h.activities.refreshTokens, first);
    await rotation.complete();
    expect(presented(firstFrom)).toHaveLength(1);
    expect(presented(firstFrom)[0]).toMatch(/ 200$/);
    expect(await tokenStates(first.integrationId)).toEqual(['retired', 'current']);

    // Both at once, in whichever order the lock lets them: every refresh token presented once, all accepted.
    const second = await seedConnected();
    const from = refreshRequests().length;
    const [racing] = await Promise.all([rotate(second), run(h.activities.refreshTokens, second)]);
    await racing.complete();
    const raced = presented(from);
    expect(raced.length).toBeGreaterThanOrEqual(1);
    expect(raced.every((line) => line.endsWith(' 200'))).toBe(true);
    expect(new Set(raced.map((line) => line.split(' ')[0])).size).toBe(raced.length);
    const states = await tokenStates(second.integrationId);
    expect(states.filter((state) => state === 'current')).toHaveLength(1);
    expect(states.filter((state) => state === 'pending')).toHaveLength(0);
    // Whatever the order, the stored pair is the live one: it refreshes again.
    for (const ref of [first, second]) await run(h.activities.refreshTokens, ref);
    expect(presented(firstFrom).every((line) => line.endsWith(' 200'))).toBe(true);
  }, 60_000);
});
