/**
 * One Procore journey through the real API and the real workflows (no contract doubles): an admin
 * connects Procore over HTTP (hand-off, consent at the emulator, callback in the admin's browser
 * session), the lifecycle syncs the selected projects, a Procore webhook delivered to the listening
 * API triggers an incremental sync, a status update goes out through the actions route, and the
 * disconnect revokes at Procore and ends with a purge receipt the admin reads from the API.
 */
import crypto from 'node:crypto';
import { PROCORE_READ, PROCORE_STATUS_UPDATES, procoreDescriptor } from '../../activities/vendors/procore';
import { createProcoreConnector } from '../../activities/vendors/procore/connector';
import { startProcoreEmulator, type ProcoreEmulator } from '../../emulators/procore';
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

describe('Procore journey through the API and the real workflows', () => {
  const secretsKey = crypto.randomBytes(32);
  const redirectUri = `${PUBLIC_URL}/v1/oauth/callback/procore`;
  let h: Harness;
  let worker: VendorHarness;
  let emulator: ProcoreEmulator;
  let apiUrl = '';

  beforeAll(async () => {
    h = await createHarness({ secretsKey });
    // The disconnect's purge runs a second after it, not in 7 days.
    h.services.purgeDelayMs = 1_000;
    apiUrl = await h.app.listen({ port: 0, host: '127.0.0.1' });
    emulator = await startProcoreEmulator({
      clientId: 'procore-client-id',
      clientSecret: 'procore-client-secret',
      redirectUris: [redirectUri],
    });
    const connector = createProcoreConnector({
      authBaseUrl: emulator.url,
      apiBaseUrl: emulator.url,
      clientId: 'procore-client-id',
      clientSecret: 'procore-client-secret',
      now: emulator.control.clock.now,
    });
    // Procore delivers to the listening API.
    worker = createVendorHarness([{ descriptor: procoreDescriptor, connector }], {
      key: secretsKey,
      webhookBaseUrl: apiUrl,
    });
  });
  afterAll(async () => {
    await worker.close();
    await emulator.stop();
    await h.close();
  });

  it('T2 T4 T11 T15 T18 T19 T21 [procore]: connect → first sync → webhook-triggered sync → narrowed selection (hook of the deselected project deleted at Procore, its deliveries refused) → status update → disconnect → purge receipt, all over HTTP', async () => {
    const { control } = emulator;
    const tower = control.addProject('Tower A');
    const office = control.addProject('Head office fit-out');
    const depot = control.addProject('Depot');
    const rfi = control.addItem(tower.id, 'rfis', { number: '1', subject: 'Curtain wall anchors', status: 'open' });
    control.addItem(office.id, 'rfis', { number: '1', subject: 'Office RFI', status: 'open' });
    const ws = crypto.randomUUID();
    const admin = bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'admin-1' }));
    await withRealWorkflows(h, worker, async () => {
      const { integrationId, path } = await connectOverHttp(
        h,
        ws,
        admin,
        {
          vendor: 'procore',
          scopes: [PROCORE_READ, PROCORE_STATUS_UPDATES],
          controls: { projects: [String(tower.id), String(depot.id)] },
          redirectUri,
        },
        // The admin's browser: the hand-off, the consent at Procore, the callback with the session cookie.
        ({ callback }) => expect(callback.origin + callback.pathname).toBe(redirectUri),
      );
      const status = () => integrationStatus(h, admin, path);

      // Connected; the first sync brings the selected project's RFI only (T18).
      await pollUntil(status, (s) => s.status === 'connected' && s.live?.lastSync?.state === 'completed', 60_000);
      const cachedSubjects = async () =>
        (await h.su('cached_records').where({ integration_id: integrationId, resource: 'rfis' }).select('payload')).map(
          (r) => String(r.payload.subject),
        );
      expect(await cachedSubjects()).toEqual(['Curtain wall anchors']);
      const ledger = await h.app.inject({ method: 'GET', url: `${path}/consents`, headers: admin });
      expect(ledger.json().consents[0]).toMatchObject({
        action: 'granted',
        actor: { type: 'user' },
        scopes: [PROCORE_READ, PROCORE_STATUS_UPDATES],
      });

      // An edit at Procore: its hook delivers to the API, whose receiver wakes the real lifecycle (T11, T21).
      control.clock.advance(60_000);
      control.updateItem(rfi.id, { subject: 'Curtain wall anchors (answered)' });
      expect(await control.deliver(rfi.id, 'update')).toEqual([202]);
      await pollUntil(cachedSubjects, (subjects) => subjects.includes('Curtain wall anchors (answered)'), 60_000);

      // T18: the admin narrows the selection to Tower A. Depot's hook is deleted at Procore before the
      // update answers, Tower A's stays, and a delivery about Depot (a retry Procore still had queued)
      // is refused and recorded nowhere.
      const hooksOf = (projectId: number) =>
        control.hooks().filter((hook) => hook.projectId === projectId && hook.destinationUrl.includes(ws));
      const [depotHook] = hooksOf(depot.id);
      expect(depotHook).toBeDefined();
      const narrowed = await h.app.inject({
        method: 'PATCH',
        url: `${path}/controls`,
        headers: admin,
        payload: { controls: { projects: [String(tower.id)] } },
      });
      expect(narrowed.statusCode).toBe(200);
      expect(hooksOf(depot.id)).toEqual([]);
      expect(hooksOf(tower.id)).toHaveLength(1);
      const deleted = control.requests.filter((r) => r.method === 'DELETE' && r.path.includes('/webhooks/hooks/'));
      expect(deleted.map((r) => `${r.path}?project_id=${r.query.project_id}`)).toEqual([
        `/rest/v1.0/webhooks/hooks/${depotHook!.id}?project_id=${depot.id}`,
      ]);
      expect(await h.su('vendor_subscriptions').where({ integration_id: integrationId })).toHaveLength(1);
      const delivery = (projectId: number) =>
        fetch(depotHook!.destinationUrl, {
          method: 'POST',
          headers: { ...depotHook!.destinationHeaders, 'content-type': 'application/json' },
          body: JSON.stringify({
            ulid: crypto.randomBytes(13).toString('hex').toUpperCase(),
            timestamp: new Date(control.clock.now()).toISOString(),
            project_id: projectId,
            event_type: 'update',
            resource_type: 'RFIs',
            resource_id: rfi.id,
          }),
        });
      const deliveriesBefore = await h.su('webhook_deliveries').where({ integration_id: integrationId });
      const refused = await delivery(depot.id);
      expect(refused.status).toBe(403);
      expect(refused.headers.get('content-type')).toContain('application/problem+json');
      expect(await h.su('webhook_deliveries').where({ integration_id: integrationId })).toHaveLength(
        deliveriesBefore.length,
      );
      // The same endpoint still takes Tower A's deliveries.
      expect((await delivery(tower.id)).status).toBe(202);

      // Data out (T19): the admin enabled status updates at connect.
      const done = await actionToItsEnd(h, admin, path, {
        action: 'status-update',
        input: { projectId: String(tower.id), rfiId: String(rfi.id), status: 'closed' },
      });
      expect(done).toMatchObject({ status: 'completed', result: { externalId: String(rfi.id), status: 'closed' } });
      expect(control.item(rfi.id)!.fields.status).toBe('closed');

      // Disconnect (T4, T15): hooks deleted, grant revoked at Procore, cache cleared, then the purge receipt.
      await disconnectToReceipt(h, ws, admin, integrationId);
      expect(control.revokedTokens()).toBe(1);
      expect(control.hooks()).toEqual([]);
      expect(await h.su('cached_records').where({ integration_id: integrationId })).toEqual([]);
    });
    // The unselected project was never asked about.
    const named = control.requests
      .filter((r) => r.path.startsWith('/rest/'))
      .flatMap((r) => [/\/projects\/(\d+)/.exec(r.path)?.[1], r.query.project_id].filter(Boolean).map(Number));
    expect(named).not.toContain(office.id);
  }, 240_000);
});
