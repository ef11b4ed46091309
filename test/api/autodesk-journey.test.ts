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
import { devServer, testWorker } from '../support/temporal';
import { createVendorHarness, type VendorHarness } from '../workflows/support/harness';
import { pollUntil } from '../workflows/support/workflowHelpers';
import { bearer, createHarness, PUBLIC_URL, type Harness } from './support/harness';

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
    const server = await devServer();
    const running = await testWorker({
      connection: server.connection,
      taskQueue: h.taskQueue,
      activities: worker.activities,
    });
    try {
      await running.runUntil(async () => {
        const connect = await h.app.inject({
          method: 'POST',
          url: `/v1/workspaces/${ws}/integrations`,
          headers: admin,
          payload: {
            vendor: 'autodesk-acc',
            scopes: [APS_READ, APS_WRITE],
            controls: { projects: [tower.id], writes: ['issues'] },
            redirectUri,
          },
        });
        expect(connect.statusCode).toBe(202);
        const { integrationId } = connect.json() as { integrationId: string };
        const path = `/v1/workspaces/${ws}/integrations/${integrationId}`;
        const status = async () => (await h.app.inject({ method: 'GET', url: path, headers: admin })).json();

        // The admin's browser: the hand-off, the consent at Autodesk, the callback with the session cookie.
        const handed = await pollUntil(
          () => h.app.inject({ method: 'GET', url: `${path}/authorize`, headers: admin }),
          (r) => r.statusCode === 200,
          30_000,
        );
        const cookie = String(handed.headers['set-cookie']).split(';')[0]!;
        const authorizeUrl = new URL(handed.json().authorizeUrl as string);
        expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
        const consent = await fetch(authorizeUrl, { redirect: 'manual' });
        const callback = new URL(consent.headers.get('location')!);
        expect(callback.origin + callback.pathname).toBe(redirectUri);
        const completed = await h.app.inject({
          method: 'GET',
          url: `${callback.pathname}${callback.search}`,
          headers: { cookie },
        });
        expect(completed.statusCode).toBe(200);

        // Connected; the first sync brings the selected project's document only (T18).
        await pollUntil(status, (s) => s.status === 'connected' && s.live?.lastSync?.state === 'completed', 60_000);
        const cachedNames = async () =>
          (
            await h
              .su('cached_records')
              .where({ integration_id: integrationId, resource: 'documents' })
              .select('payload')
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
        const action = await h.app.inject({
          method: 'POST',
          url: `${path}/actions`,
          headers: { ...admin, 'idempotency-key': crypto.randomUUID() },
          payload: {
            action: 'issues',
            input: { projectId: tower.id, title: 'Cracked slab at C4', issueSubtypeId: 'subtype-defect' },
          },
        });
        expect(action.statusCode).toBe(202);
        const done = await pollUntil(
          async () => (await h.app.inject({ method: 'GET', url: action.json().links.status, headers: admin })).json(),
          (s) => s.status !== 'running',
          30_000,
        );
        expect(done).toMatchObject({ status: 'completed' });
        expect(control.issues().map((i) => i.title)).toContain('Cracked slab at C4');

        // Disconnect (T4, T15): hooks deleted, grant revoked at Autodesk, cache cleared, then the purge receipt.
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
        expect(control.revokedGrants()).toBe(1);
        expect(control.hooks()).toEqual([]);
        expect(await h.su('cached_records').where({ integration_id: integrationId })).toEqual([]);
      });
    } finally {
      await server.close();
    }
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

  /** Connect over HTTP as the admin's browser would: hand-off, consent at the emulator, callback with the cookie. */
  async function connectOverHttp(ws: string, admin: Record<string, string>, payload: Record<string, unknown>) {
    const connect = await h.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${ws}/integrations`,
      headers: admin,
      payload,
    });
    expect(connect.statusCode).toBe(202);
    const { integrationId } = connect.json() as { integrationId: string };
    const path = `/v1/workspaces/${ws}/integrations/${integrationId}`;
    const handed = await pollUntil(
      () => h.app.inject({ method: 'GET', url: `${path}/authorize`, headers: admin }),
      (r) => r.statusCode === 200,
      30_000,
    );
    const cookie = String(handed.headers['set-cookie']).split(';')[0]!;
    const consent = await fetch(handed.json().authorizeUrl as string, { redirect: 'manual' });
    const callback = new URL(consent.headers.get('location')!);
    const completed = await h.app.inject({
      method: 'GET',
      url: `${callback.pathname}${callback.search}`,
      headers: { cookie },
    });
    expect(completed.statusCode).toBe(200);
    return { integrationId, path };
  }

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
      const server = await devServer();
      const running = await testWorker({
        connection: server.connection,
        taskQueue: h.taskQueue,
        activities: worker.activities,
      });
      try {
        await running.runUntil(async () => {
          const { integrationId, path } = await connectOverHttp(ws, admin, {
            ...payload,
            redirectUri: callbackOf(vendor),
          });
          const status = async () => (await h.app.inject({ method: 'GET', url: path, headers: admin })).json();
          await pollUntil(status, (s) => s.status === 'connected' && s.live?.lastSync?.state === 'completed', 60_000);
          const names = (
            await h.su('cached_records').where({ integration_id: integrationId, resource }).select('payload')
          ).map((r) => String(r.payload.name));
          expect(names).toContain(vendor === 'autodesk-docs' ? 'Clinic.pdf' : 'AHU-07');
          expect(names).not.toContain('AHU-99');

          const revokedBefore = control.revokedGrants();
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
          expect(control.revokedGrants()).toBe(revokedBefore + 1);
          expect(await h.su('cached_records').where({ integration_id: integrationId })).toEqual([]);
        });
      } finally {
        await server.close();
      }
      const paths = control.requests.slice(from).map((r) => decodeURIComponent(r.path));
      expect(paths.some((p) => p.includes(skipped.id.slice(2)) || p.includes(otherFacility.id))).toBe(false);
    },
    240_000,
  );
});
