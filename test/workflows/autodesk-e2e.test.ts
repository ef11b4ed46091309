/**
 * Autodesk end to end through the real workflows on the dev server, with the real `@aps_sdk/*`
 * connector, the APS emulator and real Postgres.
 * Construction Cloud: connect (consent at the emulator, PKCE; callback Update) → the lifecycle's
 * first sync of the selected projects only (documents, issues) with hooks on their top folders →
 * an incremental "sync now" → an issue created (data out, enabled by the admin) → rotation (single-use
 * refresh token) → disconnect (hooks deleted, tokens revoked) → purge.
 * Docs: connect with a hub and a project → folder-tree sync, no hooks → disconnect → purge.
 * Tandem: connect with a facility (our app added as its service) → facilities and assets synced →
 * an asset status written (enabled by the admin) → disconnect → purge.
 * Then: two refreshes of one integration at once, against an emulator that refuses any reused refresh token.
 */
import {
  APS_READ,
  APS_WRITE,
  accDescriptor,
  docsDescriptor,
  tandemDescriptor,
} from '../../activities/vendors/autodesk';
import { REDIRECT_URI, startAutodeskHarness, type AutodeskHarness } from '../vendors/autodesk/harness';
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
  seedOauthIntegration,
  useVendorEndToEnd,
  vendorAction,
  withDevServerWorker,
} from './support/vendorEndToEnd';
import { seedWorkspace, startConnect, syncNowAndWait } from './support/workflowHelpers';

describe('Autodesk end to end (dev server, APS emulator, real Postgres)', () => {
  let aps: AutodeskHarness;
  let h: VendorHarness;
  useVendorEndToEnd(
    startAutodeskHarness,
    [accDescriptor, docsDescriptor, tandemDescriptor],
    (parts) => ({ vendor: aps, h } = parts),
  );

  /** Projects any APS request named (Data Management or product id, path or filter). */
  const projectsRequested = () =>
    aps.emulator.control.requests
      .filter((r) => !r.path.startsWith('/authentication/'))
      .flatMap((r) => [
        /\/projects\/(?:b\.)?([0-9a-f-]{36})/i.exec(r.path)?.[1],
        ...(r.query['filter[id]']?.split(',') ?? []),
      ])
      .filter((id): id is string => id !== undefined)
      .map((id) => `b.${id.replace(/^b\./, '').toLowerCase()}`);

  /** Consents at the emulator (APS asks PKCE of every row) and completes the connect run. */
  async function consent(connect: Awaited<ReturnType<typeof startConnect>>): Promise<void> {
    expect(connect.authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    await consentInBrowser(connect, aps.emulator.url);
  }

  it('T1 T2 T4 T5 T8 T11 T15 T18 T19 [autodesk-acc]: connect → sync (selected projects only) → incremental sync → issue created → rotate → disconnect (hooks deleted, grant revoked) → purge', async () => {
    const { control } = aps.emulator;
    const { tower, depot, office } = aps.projects;
    for (let n = 0; n < 3; n++) await control.addDocument(tower.id, tower.topFolders[1]!, `A-10${n}.pdf`);
    await control.addDocument(depot.id, depot.topFolders[0]!, 'Depot.rvt');
    await control.addDocument(office.id, office.topFolders[0]!, 'Office.rvt');
    const towerIssues = Array.from({ length: 4 }, (_u, n) => control.addIssue(tower.id, `tower issue ${n}`));
    control.addIssue(office.id, 'office issue');
    const selection = aps.selection();
    const tokenCalls = () => control.requests.filter((r) => r.path === '/authentication/v2/token');
    const workspaceId = await seedWorkspace(h);
    await withDevServerWorker(h, 'autodesk-e2e', async ({ client, taskQueue }) => {
      // The admin selects two projects and enables writes of issues.
      const connect = await startConnect(client, taskQueue, {
        workspaceId,
        vendor: 'autodesk-acc',
        requestedScopes: [APS_READ, APS_WRITE],
        controls: { projects: selection, writes: ['issues'] },
        redirectUri: REDIRECT_URI,
      });
      await consent(connect);
      const { handle, integrationId } = connect;
      expect(await handle.result()).toMatchObject({ status: 'connected', grantedScopes: [APS_READ, APS_WRITE] });
      const ref = { workspaceId, integrationId };
      const cached = (resource: string) => cachedPayloads(h, integrationId, resource);

      // The lifecycle's first sync: every resource, the selected projects only (T18).
      const lifecycle = await afterFirstSync(client, ref);
      expect((await cached('documents')).map((d) => d.name).sort()).toEqual([
        'A-100.pdf',
        'A-101.pdf',
        'A-102.pdf',
        'Depot.rvt',
      ]);
      expect((await cached('issues')).map((i) => i.title).sort()).toEqual(towerIssues.map((i) => i.title).sort());
      expect((await cached('projects')).map((p) => p.name).sort()).toEqual(['Depot', 'Tower A']);
      // Hooks on the top folders of the selected projects, three events each.
      expect(new Set(control.hooks().map((hook) => hook.folder))).toEqual(
        new Set([...tower.topFolders, ...depot.topFolders]),
      );
      expect(control.hooks()).toHaveLength(12);

      // Incremental "sync now": an issue edit in Tower A arrives, a new issue of the office does not.
      control.clock.advance(10 * 60_000);
      control.updateIssue(towerIssues[1]!.id, { title: 'tower issue 1 fixed' });
      control.addIssue(office.id, 'office issue late');
      const incrementalFrom = control.requests.length;
      await syncNowAndWait(lifecycle);
      expect((await cached('issues')).map((i) => i.title)).toContain('tower issue 1 fixed');
      expect((await cached('issues')).some((i) => String(i.title).startsWith('office'))).toBe(false);
      const issueLists = control.requests.slice(incrementalFrom).filter((r) => r.path.endsWith('/issues'));
      expect(issueLists.length).toBeGreaterThan(0);
      expect(issueLists.every((r) => r.query['filter[updatedAt]'] !== undefined)).toBe(true);

      // Data out (T19): an issue, through vendorActionWorkflow.
      const created = await vendorAction(
        client,
        taskQueue,
        { workspaceId, integrationId },
        {
          vendor: 'autodesk-acc',
          action: 'issues',
          input: { projectId: tower.id, title: 'Cracked slab at C4', issueSubtypeId: 'subtype-defect' },
        },
      );
      expect(control.issues().find((i) => i.id === created.externalId)).toMatchObject({
        title: 'Cracked slab at C4',
      });

      // Rotation (T8): one refresh with the single-use token → test → promote → retire.
      const refreshesBefore = tokenCalls().length;
      expect(await rotateTokens(client, taskQueue, ref, 'autodesk-acc')).toEqual({ status: 'rotated', newVersion: 2 });
      expect(grantTypesSince(tokenCalls(), refreshesBefore)).toEqual(['refresh_token 200']);

      // Disconnect (T4): our hooks are deleted with the live token, then both tokens are revoked.
      const revokedBefore = control.revokedGrants();
      const disconnected = await disconnect(client, taskQueue, ref);
      expect(disconnected).toMatchObject({ revokedAtVendor: true, vendorNote: accDescriptor.revocation.note });
      expect(control.revokedGrants()).toBe(revokedBefore + 1);
      expect(control.hooks()).toEqual([]);
      const receipt = await h.admin('purge_receipts').where({ receipt_id: disconnected.receiptId }).first();
      expect(receipt).toMatchObject({ integration_id: integrationId, vendor: 'autodesk-acc' });
      expect(await lifecycle.describe().then((d) => d.status.name)).not.toBe('RUNNING');
    });
    // Nothing about the unselected project was ever requested (T18).
    expect(projectsRequested()).not.toContain(office.id);
    await expectPurged(h, await onlyIntegrationOf(h, workspaceId), [
      'oauth.exchange-code',
      'hubs.list',
      'integration.connected',
      'webhooks.register',
      'documents.list',
      'issues.list',
      'issues',
      'oauth.refresh',
      'secret.promoted',
      'webhooks.delete',
      'oauth.revoke',
      'integration.purged',
    ]);
  }, 180_000);

  it('T1 T4 T5 T15 T18 [autodesk-docs]: connect with a hub and a project → folder-tree sync of that project only, no hooks → disconnect (grant revoked) → purge', async () => {
    const { control } = aps.emulator;
    const { depot, office } = aps.projects;
    const drawings = control.addFolder(depot.id, depot.topFolders[0]!, 'Drawings');
    await control.addDocument(depot.id, drawings.id, 'S-201 Foundations.pdf');
    await control.addDocument(office.id, office.topFolders[0]!, 'Office fit-out.pdf');
    const hooksBefore = control.hooks().length;
    const from = control.requests.length;
    const workspaceId = await seedWorkspace(h);
    await withDevServerWorker(h, 'autodesk-docs-e2e', async ({ client, taskQueue }) => {
      const connect = await startConnect(client, taskQueue, {
        workspaceId,
        vendor: 'autodesk-docs',
        requestedScopes: [...docsDescriptor.scopes.required],
        controls: { hubs: [aps.hubId], projects: [depot.id] },
        redirectUri: REDIRECT_URI,
      });
      await consent(connect);
      const { integrationId } = connect;
      expect(await connect.handle.result()).toMatchObject({ status: 'connected' });
      await afterFirstSync(client, { workspaceId, integrationId });
      const tree = await cachedPayloads(h, integrationId, 'folder-tree');
      expect(
        tree
          .filter((e) => e.type === 'folder')
          .map((e) => e.name)
          .sort(),
      ).toEqual(['Drawings', 'Plans', 'Project Files']);
      expect(tree.map((e) => e.name)).toContain('S-201 Foundations.pdf');
      expect(tree.map((e) => e.name)).not.toContain('Office fit-out.pdf');
      // No hook: creating one needs data:write, outside this row's scopes.
      expect(control.hooks()).toHaveLength(hooksBefore);

      const disconnected = await disconnect(client, taskQueue, { workspaceId, integrationId });
      expect(disconnected).toMatchObject({ revokedAtVendor: true, vendorNote: docsDescriptor.revocation.note });
      expect(await h.admin('cached_records').where({ integration_id: integrationId })).toEqual([]);
    });
    const named = control.requests
      .slice(from)
      .flatMap((r) => [/\/projects\/(?:b\.)?([0-9a-f-]{36})/i.exec(r.path)?.[1]])
      .filter((id): id is string => id !== undefined)
      .map((id) => `b.${id.toLowerCase()}`);
    expect(new Set(named)).toEqual(new Set([depot.id]));
  }, 180_000);

  it('T1 T4 T5 T15 T18 T19 [autodesk-tandem]: connect with a facility → facility and asset sync of that facility only → asset status written → disconnect (grant revoked) → purge', async () => {
    const { control } = aps.emulator;
    const plant = control.addFacility('Central plant', { service: true });
    const other = control.addFacility('Warehouse', { service: true });
    const ahu = control.addAsset(plant.id, 'AHU-01', { 'z:5Q': 'Running' });
    control.addAsset(other.id, 'Boiler-09');
    const from = control.requests.length;
    const workspaceId = await seedWorkspace(h);
    await withDevServerWorker(h, 'autodesk-tandem-e2e', async ({ client, taskQueue }) => {
      const connect = await startConnect(client, taskQueue, {
        workspaceId,
        vendor: 'autodesk-tandem',
        requestedScopes: [APS_READ, APS_WRITE],
        controls: { facilities: [plant.id], writes: ['asset-status'] },
        redirectUri: REDIRECT_URI,
      });
      await consent(connect);
      const { integrationId } = connect;
      expect(await connect.handle.result()).toMatchObject({ status: 'connected' });
      await afterFirstSync(client, { workspaceId, integrationId });
      const cached = (resource: string) => cachedPayloads(h, integrationId, resource);
      expect((await cached('facilities')).map((f) => f.name)).toEqual(['Central plant']);
      expect((await cached('assets')).map((a) => [a.name, a.parameters])).toEqual([['AHU-01', { 'z:5Q': 'Running' }]]);

      const written = await vendorAction(
        client,
        taskQueue,
        { workspaceId, integrationId },
        {
          vendor: 'autodesk-tandem',
          action: 'asset-status',
          input: {
            facilityId: plant.id,
            modelId: plant.models[0]!,
            elementKey: ahu.key,
            parameter: 'z:5Q',
            status: 'Under maintenance',
          },
        },
      );
      expect(written).toMatchObject({ parameter: 'z:5Q' });
      expect(control.asset(plant.models[0]!, ahu.key)!.parameters['z:5Q']).toBe('Under maintenance');

      const disconnected = await disconnect(client, taskQueue, { workspaceId, integrationId });
      expect(disconnected).toMatchObject({ revokedAtVendor: true, vendorNote: tandemDescriptor.revocation.note });
      const receipt = await h.admin('purge_receipts').where({ receipt_id: disconnected.receiptId }).first();
      expect(receipt).toMatchObject({ integration_id: integrationId, vendor: 'autodesk-tandem' });
      expect(await h.admin('cached_records').where({ integration_id: integrationId })).toEqual([]);
    });
    const paths = control.requests.slice(from).map((r) => decodeURIComponent(r.path));
    expect(paths.some((path) => path.includes(other.id) || path.includes(other.models[0]!))).toBe(false);
  }, 180_000);

  it('T4 [autodesk-acc]: two refreshes of one integration at once lose no grant: they are serialised, each presents the refresh token the other left, and the stored pair works', async () => {
    await expectConcurrentRefreshesSerialised({
      h,
      vendor: aps,
      refreshRequests: () =>
        aps.emulator.control.requests.filter(
          (r) =>
            r.path === '/authentication/v2/token' && (r.body as { grant_type?: string }).grant_type === 'refresh_token',
        ),
      seed: async () =>
        seedOauthIntegration(h, {
          vendor: 'autodesk-acc',
          scopes: [APS_READ, APS_WRITE],
          controls: { projects: [aps.projects.tower.id] },
          credential: await aps.connect(),
        }),
    });
  }, 60_000);
});
