/**
 * Procore end to end through the real workflows on the dev server: connect (consent at the Procore
 * emulator, state + exact redirect, no PKCE; callback Update) → the lifecycle's first sync of the
 * selected projects only → an incremental "sync now" → an RFI status update (data out, enabled by
 * the admin) → rotation (single-use refresh token) → disconnect (hooks deleted, /oauth/revoke) →
 * purge, with the real @procore/js-sdk connector and real Postgres. Then: two refreshes of one
 * integration at once, against an emulator that refuses any reused refresh token.
 */
import { PROCORE_READ, PROCORE_STATUS_UPDATES, procoreDescriptor } from '../../activities/vendors/procore';
import { REDIRECT_URI, startProcoreHarness, type ProcoreHarness } from '../vendors/procore/harness';
import type { VendorHarness } from './support/harness';
import {
  afterFirstSync,
  cachedPayloads,
  consentInBrowser,
  disconnect,
  expectConcurrentRefreshesSerialised,
  expectPurged,
  grantTypesSince,
  onlyIntegrationOf,
  rotateTokens,
  runActivity,
  seedOauthIntegration,
  tokenStates,
  useVendorEndToEnd,
  vendorAction,
  withDevServerWorker,
} from './support/vendorEndToEnd';
import { ADMIN, seedWorkspace, startConnect, syncNowAndWait } from './support/workflowHelpers';

describe('Procore end to end (dev server, Procore emulator, real Postgres)', () => {
  let procore: ProcoreHarness;
  let h: VendorHarness;
  useVendorEndToEnd(startProcoreHarness, [procoreDescriptor], (parts) => ({ vendor: procore, h } = parts));

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
    await withDevServerWorker(h, 'procore-e2e', async ({ client, taskQueue }) => {
      // Connect: the admin enables data out (the optional permission) and selects two projects.
      const connect = await startConnect(client, taskQueue, {
        workspaceId,
        vendor: 'procore',
        requestedScopes: [PROCORE_READ, PROCORE_STATUS_UPDATES],
        controls: { projects: selection },
        redirectUri: REDIRECT_URI,
      });
      expect(connect.authorizeUrl.searchParams.has('code_challenge')).toBe(false);
      expect(connect.authorizeUrl.searchParams.has('scope')).toBe(false);
      await consentInBrowser(connect, procore.emulator.url);
      const { handle, integrationId } = connect;
      expect(await handle.result()).toMatchObject({
        status: 'connected',
        grantedScopes: [PROCORE_READ, PROCORE_STATUS_UPDATES],
      });
      const ref = { workspaceId, integrationId };
      const cached = (resource: string) => cachedPayloads(h, integrationId, resource);

      // The lifecycle's first sync: every resource, the selected projects only (T18).
      const lifecycle = await afterFirstSync(client, ref);
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
      const incrementalFrom = control.requests.length;
      await syncNowAndWait(lifecycle);
      expect((await cached('rfis')).map((r) => r.subject)).toContain('tower rfi 1 answered');
      expect((await cached('rfis')).some((r) => String(r.subject).startsWith('office'))).toBe(false);
      const rfiLists = control.requests.slice(incrementalFrom).filter((r) => r.path.endsWith('/rfis'));
      expect(rfiLists.length).toBeGreaterThan(0);
      expect(rfiLists.every((r) => r.query['filters[updated_at]'] !== undefined)).toBe(true);

      // Data out (T19): the RFI's status, through vendorActionWorkflow.
      const changed = await vendorAction(
        client,
        taskQueue,
        { workspaceId, integrationId },
        {
          vendor: 'procore',
          action: 'status-update',
          input: { projectId: String(tower.id), rfiId: String(towerRfis[2]!.id), status: 'closed' },
        },
      );
      expect(changed).toMatchObject({ externalId: String(towerRfis[2]!.id), status: 'closed' });
      expect(control.item(towerRfis[2]!.id)!.fields.status).toBe('closed');

      // Rotation (T8): one refresh with the single-use token → test → promote → retire.
      const refreshesBefore = tokenCalls().length;
      expect(await rotateTokens(client, taskQueue, ref, 'procore')).toEqual({ status: 'rotated', newVersion: 2 });
      expect(grantTypesSince(tokenCalls(), refreshesBefore)).toEqual(['refresh_token 200']);
      expect(await tokenStates(h, integrationId)).toEqual(['retired', 'current']);

      // Disconnect (T4): our hooks are deleted with the live token, then /oauth/revoke.
      const revokedBefore = control.revokedTokens();
      const disconnected = await disconnect(client, taskQueue, ref);
      expect(disconnected).toMatchObject({ revokedAtVendor: true, vendorNote: procoreDescriptor.revocation.note });
      expect(control.revokedTokens()).toBe(revokedBefore + 1);
      expect(control.hooks()).toEqual([]);
      const receipt = await h.admin('purge_receipts').where({ receipt_id: disconnected.receiptId }).first();
      expect(receipt).toMatchObject({ integration_id: integrationId, vendor: 'procore' });
      expect(await lifecycle.describe().then((d) => d.status.name)).not.toBe('RUNNING');
    });
    // Nothing about the unselected project was ever requested (T18).
    expect(projectsRequested()).not.toContain(office.id);
    await expectPurged(h, await onlyIntegrationOf(h, workspaceId), [
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
    ]);
  }, 180_000);

  /** A connected Procore integration with its credential stored as the current secret. */
  async function seedConnected(): Promise<{ workspaceId: string; integrationId: string }> {
    return seedOauthIntegration(h, {
      vendor: 'procore',
      scopes: [PROCORE_READ],
      controls: { projects: [String(procore.projects.tower.id)] },
      credential: await procore.connect(),
    });
  }

  it('T4 [procore]: two refreshes of one integration at once lose no grant: they are serialised, each presents the refresh token the other left, and the stored pair works', async () => {
    await expectConcurrentRefreshesSerialised({
      h,
      vendor: procore,
      refreshRequests: () =>
        procore.emulator.control.requests.filter(
          (r) => r.path === '/oauth/token' && (r.body as { grant_type?: string }).grant_type === 'refresh_token',
        ),
      seed: seedConnected,
    });
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
    const run = runActivity;
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
    expect(await tokenStates(h, first.integrationId)).toEqual(['retired', 'current']);

    // Both at once, in whichever order the lock lets them: every refresh token presented once, all accepted.
    const second = await seedConnected();
    const from = refreshRequests().length;
    const [racing] = await Promise.all([rotate(second), run(h.activities.refreshTokens, second)]);
    await racing.complete();
    const raced = presented(from);
    expect(raced.length).toBeGreaterThanOrEqual(1);
    expect(raced.every((line) => line.endsWith(' 200'))).toBe(true);
    expect(new Set(raced.map((line) => line.split(' ')[0])).size).toBe(raced.length);
    const states = await tokenStates(h, second.integrationId);
    expect(states.filter((state) => state === 'current')).toHaveLength(1);
    expect(states.filter((state) => state === 'pending')).toHaveLength(0);
    // Whatever the order, the stored pair is the live one: it refreshes again.
    for (const ref of [first, second]) await run(h.activities.refreshTokens, ref);
    expect(presented(firstFrom).every((line) => line.endsWith(' 200'))).toBe(true);
  }, 60_000);
});
