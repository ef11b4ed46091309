/**
 * Autodesk journeys through the real API and the real workflows (no contract doubles). Construction
 * Cloud: an admin connects over HTTP (hand-off, consent with PKCE at the APS emulator, callback
 * in the admin's browser session), the lifecycle syncs the selected project, a signed APS callback
 * delivered to the listening API triggers an incremental sync, an issue goes out through the actions
 * route, and the disconnect deletes the hooks, revokes at Autodesk and ends with a purge receipt the
 * admin reads from the API. Docs and Tandem: connect over HTTP → first sync of the selection →
 * disconnect → purge receipt.
 */
import crypto from 'node:crypto';
import {
  APS_READ,
  APS_WRITE,
  accDescriptor,
  docsDescriptor,
  tandemDescriptor,
} from '../../activities/vendors/autodesk';
import { createAutodeskConnector } from '../../activities/vendors/autodesk/connector';
import { startAutodeskEmulator, type AutodeskEmulator } from '../../emulators/autodesk';
import { createVendorHarness, type VendorHarness } from '../workflows/support/harness';
import { pollUntil } from '../workflows/support/workflowHelpers';
import { bearer, createHarness, PUBLIC_URL, type Harness } from './support/harness';
import {
  actionToItsEnd,
  connectOverHttp,
  disconnectToReceipt,
  integrationStatus,
  withRealWorkflows,
} from './support/journey';

describe('Autodesk journeys through the API and the real workflows', () => {
  const secretsKey = crypto.randomBytes(32);
  const callbackOf = (vendor: string) => `${PUBLIC_URL}/v1/oauth/callback/${vendor}`;
  const redirectUri = callbackOf('autodesk-acc');
  let h: Harness;
  let worker: VendorHarness;
  let emulator: AutodeskEmulator;

  beforeAll(async () => {
    h = await createHarness({ secretsKey });
    // The disconnect's purge runs a second after it, not in 30 days.
    h.services.purgeDelayMs = 1_000;
    const apiUrl = await h.app.listen({ port: 0, host: '127.0.0.1' });
    emulator = await startAutodeskEmulator({
      clientId: 'aps-client-id',
      clientSecret: 'aps-client-secret',
      redirectUris: [redirectUri, callbackOf('autodesk-docs'), callbackOf('autodesk-tandem')],
    });
    const connector = createAutodeskConnector({
      apiBaseUrl: emulator.url,
      clientId: 'aps-client-id',
      clientSecret: 'aps-client-secret',
      now: emulator.control.clock.now,
    });
    // APS delivers to the listening API.
    worker = createVendorHarness(
      [accDescriptor, docsDescriptor, tandemDescriptor].map((descriptor) => ({ descriptor, connector })),
      { key: secretsKey, webhookBaseUrl: apiUrl },
    );
  });
  afterAll(async () => {
    await worker.close();
    await emulator.stop();
    await h.close();
  });

  it('T2 T4 T5 T11 T15 T18 T19 T21 [autodesk-acc]: connect → first sync → webhook-triggered sync → issue created → disconnect → purge receipt, all over HTTP', async () => {
    const { control } = emulator;
    const hub = control.addHub('Acme Construction');
    const tower = control.addProject(hub, 'Tower A');
    const office = control.addProject(hub, 'Head office fit-out');
    await control.addDocument(tower.id, tower.topFolders[0]!, 'Tower A.rvt');
    await control.addDocument(office.id, office.topFolders[0]!, 'Office.rvt');
    const ws = crypto.randomUUID();
    const admin = bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'admin-1' }));
    await withRealWorkflows(h, worker, async () => {
      const { integrationId, path } = await connectOverHttp(
        h,
        ws,
        admin,
        {
          vendor: 'autodesk-acc',
          scopes: [APS_READ, APS_WRITE],
          controls: { projects: [tower.id], writes: ['issues'] },
          redirectUri,
        },
        // The admin's browser: the hand-off, the consent at Autodesk (with PKCE), the callback with the session cookie.
        ({ authorizeUrl, callback }) => {
          expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
          expect(callback.origin + callback.pathname).toBe(redirectUri);
        },
      );
      const status = () => integrationStatus(h, admin, path);

      // Connected; the first sync brings the selected project's document only (T18).
      await pollUntil(status, (s) => s.status === 'connected' && s.live?.lastSync?.state === 'completed', 60_000);
      const cachedNames = async () =>
        (
          await h.su('cached_records').where({ integration_id: integrationId, resource: 'documents' }).select('payload')
        ).map((r) => String(r.payload.name));
      expect(await cachedNames()).toEqual(['Tower A.rvt']);
      const ledger = await h.app.inject({ method: 'GET', url: `${path}/consents`, headers: admin });
      expect(ledger.json().consents[0]).toMatchObject({
        action: 'granted',
        actor: { type: 'user' },
        scopes: [APS_READ, APS_WRITE],
      });

      // A new drawing at Autodesk: its hook calls the API, whose receiver wakes the real lifecycle (T11, T21).
      await control.addDocument(tower.id, tower.topFolders[1]!, 'A-101 Level 1.pdf');
      expect(control.deliveries().at(-1)!.status).toBe(202);
      await pollUntil(cachedNames, (names) => names.includes('A-101 Level 1.pdf'), 60_000);

      // Data out (T19): the admin enabled issues at connect.
      const done = await actionToItsEnd(h, admin, path, {
        action: 'issues',
        input: { projectId: tower.id, title: 'Cracked slab at C4', issueSubtypeId: 'subtype-defect' },
      });
      expect(done).toMatchObject({ status: 'completed' });
      expect(control.issues().map((i) => i.title)).toContain('Cracked slab at C4');

      // Disconnect (T4, T15): hooks deleted, grant revoked at Autodesk, cache cleared, then the purge receipt.
      await disconnectToReceipt(h, ws, admin, integrationId);
      expect(control.revokedGrants()).toBe(1);
      expect(control.hooks()).toEqual([]);
      expect(await h.su('cached_records').where({ integration_id: integrationId })).toEqual([]);
    });
    // The unselected project was never asked about.
    const named = control.requests
      .flatMap((r) => [
        /\/projects\/(?:b\.)?([0-9a-f-]{36})/i.exec(r.path)?.[1],
        ...(r.query['filter[id]']?.split(',') ?? []),
      ])
      .filter((id): id is string => id !== undefined)
      .map((id) => `b.${id.replace(/^b\./, '').toLowerCase()}`);
    expect(named).not.toContain(office.id);
  }, 240_000);

  it.each([
    { vendor: 'autodesk-docs', resource: 'folder-tree' },
    { vendor: 'autodesk-tandem', resource: 'assets' },
  ])(
    'T4 T15 T18 [$vendor]: connect → first sync of the selection → disconnect → purge receipt, all over HTTP',
    async ({ vendor, resource }) => {
      const { control } = emulator;
      const hub = control.addHub(`Hub for ${vendor}`);
      const project = control.addProject(hub, 'Clinic');
      const skipped = control.addProject(hub, 'Not selected');
      await control.addDocument(project.id, project.topFolders[0]!, 'Clinic.pdf');
      const facility = control.addFacility('Clinic plant', { service: true });
      const otherFacility = control.addFacility('Not selected plant', { service: true });
      control.addAsset(facility.id, 'AHU-07');
      control.addAsset(otherFacility.id, 'AHU-99');
      // Docs: this hub is one of several the user belongs to, so the admin picks it.
      const payload =
        vendor === 'autodesk-docs'
          ? { vendor, scopes: docsDescriptor.scopes.required, controls: { hubs: [hub], projects: [project.id] } }
          : { vendor, scopes: tandemDescriptor.scopes.required, controls: { facilities: [facility.id] } };
      const ws = crypto.randomUUID();
      const admin = bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'admin-1' }));
      const from = control.requests.length;
      await withRealWorkflows(h, worker, async () => {
        const { integrationId, path } = await connectOverHttp(h, ws, admin, {
          ...payload,
          redirectUri: callbackOf(vendor),
        });
        const status = () => integrationStatus(h, admin, path);
        await pollUntil(status, (s) => s.status === 'connected' && s.live?.lastSync?.state === 'completed', 60_000);
        const names = (
          await h.su('cached_records').where({ integration_id: integrationId, resource }).select('payload')
        ).map((r) => String(r.payload.name));
        expect(names).toContain(vendor === 'autodesk-docs' ? 'Clinic.pdf' : 'AHU-07');
        expect(names).not.toContain('AHU-99');

        const revokedBefore = control.revokedGrants();
        await disconnectToReceipt(h, ws, admin, integrationId);
        expect(control.revokedGrants()).toBe(revokedBefore + 1);
        expect(await h.su('cached_records').where({ integration_id: integrationId })).toEqual([]);
      });
      const paths = control.requests.slice(from).map((r) => decodeURIComponent(r.path));
      expect(paths.some((p) => p.includes(skipped.id.slice(2)) || p.includes(otherFacility.id))).toBe(false);
    },
    240_000,
  );
});
