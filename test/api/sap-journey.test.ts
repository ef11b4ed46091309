/**
 * One SAP journey through the real API and the real workflows (no contract doubles): an admin lists
 * SAP as available, connects it over HTTP with the communication user's credential (stored
 * encrypted by the API, adopted and tested by the worker), the lifecycle's first sync reads the
 * tenant, a write action is refused by the API (data out is empty), and the disconnect ends with a
 * purge receipt the admin reads from the API; the tenant never received a write.
 */
import crypto from 'node:crypto';
import { SAP_MATRIX_SCOPE, sapDescriptor } from '../../activities/vendors/sap';
import { createSapConnector } from '../../activities/vendors/sap/connector';
import { startSapEmulator, type SapEmulator } from '../../emulators/sap';
import { createVendorHarness, type VendorHarness } from '../workflows/support/harness';
import { pollUntil } from '../workflows/support/workflowHelpers';
import { bearer, createHarness, type Harness } from './support/harness';
import { disconnectToReceipt, integrationStatus, withRealWorkflows } from './support/journey';

describe('SAP journey through the API and the real workflows', () => {
  const secretsKey = crypto.randomBytes(32);
  let h: Harness;
  let worker: VendorHarness;
  let emulator: SapEmulator;

  beforeAll(async () => {
    h = await createHarness({ secretsKey });
    // The disconnect's purge runs a second after it, not in 7 days.
    h.services.purgeDelayMs = 1_000;
    emulator = await startSapEmulator({ pageSize: 2 });
    const connector = createSapConnector({ apiDomains: ['127.0.0.1'], allowHttp: true });
    worker = createVendorHarness([{ descriptor: sapDescriptor, connector }], { key: secretsKey });
  });
  afterAll(async () => {
    await worker.close();
    await emulator.stop();
    await h.close();
  });

  it('T1 T4 T6 T15 T18 T19 [sap]: vendors list → connect with a credential → first sync → write refused → disconnect → purge receipt, all over HTTP', async () => {
    const { control } = emulator;
    const orders = [control.addPurchaseOrder(), control.addPurchaseOrder(), control.addPurchaseOrder()];
    const delivery = control.addDelivery();
    const user = control.addUser();
    const ws = crypto.randomUUID();
    const admin = bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'admin-1' }));
    const vendors = await h.app.inject({ method: 'GET', url: '/v1/vendors', headers: admin });
    expect(vendors.json().vendors.find((v: { id: string }) => v.id === 'sap')).toMatchObject({
      availability: 'available',
      dataOut: [],
    });
    await withRealWorkflows(h, worker, async () => {
      const connect = await h.app.inject({
        method: 'POST',
        url: `/v1/workspaces/${ws}/integrations`,
        headers: admin,
        payload: { vendor: 'sap', scopes: [SAP_MATRIX_SCOPE], credential: { url: emulator.url, ...user } },
      });
      expect(connect.statusCode).toBe(202);
      expect(connect.body).not.toContain(user.password);
      const { integrationId } = connect.json() as { integrationId: string };
      const path = `/v1/workspaces/${ws}/integrations/${integrationId}`;
      const status = () => integrationStatus(h, admin, path);

      // Connected by the worker's connect test; the first sync reads both entity sets (T1: the row's read permission).
      const connected = await pollUntil(
        status,
        (s) => s.status === 'connected' && s.live?.lastSync?.state === 'completed',
        60_000,
      );
      expect(connected.grantedScopes).toEqual([SAP_MATRIX_SCOPE]);
      const cachedIds = async (resource: string) =>
        (await h.su('cached_records').where({ integration_id: integrationId, resource }).pluck('external_id')).sort();
      expect(await cachedIds('purchase-orders')).toEqual([...orders].sort());
      expect(await cachedIds('deliveries')).toEqual([delivery]);
      // T6: the credential is only in the secret store, encrypted.
      const [secret] = await h.su('secrets').where({ integration_id: integrationId, kind: 'service-account' });
      expect(secret.state).toBe('current');
      expect(Buffer.from(secret.ciphertext).toString('latin1')).not.toContain(user.password);

      // Data out (T19): the row writes nothing; the API refuses before any workflow starts.
      const action = await h.app.inject({
        method: 'POST',
        url: `${path}/actions`,
        headers: { ...admin, 'idempotency-key': crypto.randomUUID() },
        payload: { action: 'create-purchase-order', input: { Supplier: '17300001' } },
      });
      expect(action.statusCode).toBe(422);
      expect(action.headers['content-type']).toMatch(/^application\/problem\+json/);

      // Disconnect (T4, T15): nothing to revoke at SAP; the credential and cache go, then the purge receipt.
      await disconnectToReceipt(h, ws, admin, integrationId);
      expect(await h.su('cached_records').where({ integration_id: integrationId })).toEqual([]);
      const secrets = await h.su('secrets').where({ integration_id: integrationId });
      expect(secrets.every((s) => s.state === 'destroyed' && s.ciphertext === null)).toBe(true);
    });
    // The tenant only ever saw reads, as the submitted communication user (T18, T19).
    expect(control.writes()).toEqual([]);
    expect(control.requests.length).toBeGreaterThan(0);
    expect(control.requests.every((r) => r.method === 'GET')).toBe(true);
  }, 240_000);
});
