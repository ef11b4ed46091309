/**
 * Oracle ERP Cloud and Primavera P6 journeys through the real API and the real workflows (no
 * contract doubles): the admin connects with the service account as `credential` over HTTP (stored
 * encrypted, adopted by the connect workflow), the lifecycle syncs, "sync now" brings a change,
 * data out goes through the actions route (P6, enabled, selected projects; the picker lists the
 * projects) or is refused (ERP, none), and the disconnect ends with a purge receipt read from the API.
 */
import crypto from 'node:crypto';
import { ORACLE_ERP_READ, oracleErpDescriptor } from '../../activities/vendors/oracle-erp';
import { primaveraDescriptor } from '../../activities/vendors/primavera-p6';
import { startOracleErpHarness, type OracleErpHarness } from '../vendors/oracle-erp/harness';
import { startPrimaveraHarness, type PrimaveraHarness } from '../vendors/primavera-p6/harness';
import { createVendorHarness, type VendorHarness } from '../workflows/support/harness';
import { pollUntil } from '../workflows/support/workflowHelpers';
import { bearer, createHarness, type Harness } from './support/harness';
import { withRealWorkflows } from './support/journey';

describe('Oracle ERP Cloud and Primavera P6 journeys through the API and the real workflows', () => {
  const secretsKey = crypto.randomBytes(32);
  let h: Harness;
  let worker: VendorHarness;
  let erp: OracleErpHarness;
  let p6: PrimaveraHarness;

  beforeAll(async () => {
    h = await createHarness({ secretsKey });
    h.services.purgeDelayMs = 1_000;
    erp = await startOracleErpHarness({ pageSize: 500 });
    p6 = await startPrimaveraHarness();
    worker = createVendorHarness(
      [
        { descriptor: oracleErpDescriptor, connector: erp.connector },
        { descriptor: primaveraDescriptor, connector: p6.connector },
      ],
      { key: secretsKey },
    );
  });
  afterAll(async () => {
    await worker.close();
    await erp.emulator.stop();
    await p6.emulator.stop();
    await h.close();
  });

  function client(ws: string, headers: Record<string, string>) {
    const call = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', url: string, payload?: object, extra = {}) =>
      h.app.inject({ method, url, headers: { ...headers, ...extra }, ...(payload ? { payload } : {}) });
    const base = `/v1/workspaces/${ws}/integrations`;
    return {
      call,
      base,
      status: async (id: string) => (await call('GET', `${base}/${id}`)).json(),
      async connected(id: string) {
        return pollUntil(
          () => call('GET', `${base}/${id}`).then((r) => r.json()),
          (s) => s.status === 'connected' && s.live?.lastSync?.state === 'completed',
          60_000,
        );
      },
      async syncNow(id: string) {
        const before = (await call('GET', `${base}/${id}`)).json().live?.lastSync?.finishedAt;
        expect((await call('POST', `${base}/${id}/sync`)).statusCode).toBe(202);
        await pollUntil(
          () => call('GET', `${base}/${id}`).then((r) => r.json()),
          (s) => s.live?.lastSync?.state === 'completed' && s.live.lastSync.finishedAt !== before,
          60_000,
        );
      },
      async action(id: string, action: string, input: object) {
        return call('POST', `${base}/${id}/actions`, { action, input }, { 'idempotency-key': crypto.randomUUID() });
      },
      async disconnectWithReceipt(id: string) {
        expect((await call('DELETE', `${base}/${id}`)).statusCode).toBe(202);
        return pollUntil(
          async () =>
            (await call('GET', `/v1/workspaces/${ws}/purge-receipts?integrationId=${id}`)).json().receipts as Array<{
              integrationId: string;
            }>,
          (list) => list.length === 1,
          60_000,
        );
      },
    };
  }

  it('T2 T4 T6 T15 T18 T19 [oracle-erp]: connect with the service account → first sync → sync now brings a change → a write is refused before any call → disconnect → purge receipt, over HTTP', async () => {
    const { control } = erp.emulator;
    const order = control.add('purchaseOrders', { OrderNumber: 'PO-J1', Status: 'OPEN', Total: 10 });
    control.add('suppliers', { Supplier: 'Contoso Concrete', SupplierNumber: 'CC', Status: 'ACTIVE' });
    const ws = crypto.randomUUID();
    const api = client(ws, bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'admin-1' })));
    await withRealWorkflows(h, worker, async () => {
      // No credential: a problem naming the missing field, before anything is stored.
      const missing = await api.call('POST', api.base, { vendor: 'oracle-erp' });
      expect(missing.statusCode).toBe(422);
      expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(missing.json().errors).toEqual([{ pointer: '/body/credential', detail: 'required' }]);

      const connect = await api.call('POST', api.base, { vendor: 'oracle-erp', credential: erp.credential() });
      expect(connect.statusCode).toBe(202);
      expect(connect.body).not.toContain('erp-service-account-password');
      const { integrationId } = connect.json() as { integrationId: string };
      await api.connected(integrationId);
      const ledger = await api.call('GET', `${api.base}/${integrationId}/consents`);
      expect(ledger.json().consents[0]).toMatchObject({ action: 'granted', scopes: [ORACLE_ERP_READ] });
      const orders = async () =>
        (await h.su('cached_records').where({ integration_id: integrationId, resource: 'purchase-orders' })).map(
          (r) => r.payload as { OrderNumber: string; Status: string },
        );
      expect(await orders()).toEqual([expect.objectContaining({ OrderNumber: 'PO-J1', Status: 'OPEN' })]);

      control.clock.advance(10 * 60_000);
      control.update('purchaseOrders', order.id, { Status: 'CLOSED' });
      await api.syncNow(integrationId);
      expect(await orders()).toEqual([expect.objectContaining({ OrderNumber: 'PO-J1', Status: 'CLOSED' })]);

      // T19: the row has no data out: the actions route refuses before any workflow or vendor call.
      const write = await api.action(integrationId, 'status-update', { orderNumber: 'PO-J1', status: 'CLOSED' });
      expect(write.statusCode).toBe(422);
      expect(write.json().errors).toEqual([{ pointer: '/body/action', detail: 'one of (none)' }]);
      expect(control.requests.filter((r) => r.method !== 'GET')).toEqual([]);

      const receipts = await api.disconnectWithReceipt(integrationId);
      expect(receipts[0]).toMatchObject({ integrationId });
      expect(await h.su('cached_records').where({ integration_id: integrationId })).toEqual([]);
    });
  }, 240_000);

  it('T2 T4 T6 T15 T18 T19 [primavera-p6]: the picker lists the projects → connect with a selection and status updates enabled → first sync of the selection → status update over HTTP → disconnect → purge receipt', async () => {
    const { control } = p6.emulator;
    const { tower, depot, office } = p6.projects;
    const activity = control.add('activity', {
      Id: 'J1',
      Name: 'journey activity',
      ProjectObjectId: tower.ObjectId,
      Status: 'Not Started',
    });
    control.add('activity', {
      Id: 'J2',
      Name: 'office activity',
      ProjectObjectId: office.ObjectId,
      Status: 'Not Started',
    });
    const ws = crypto.randomUUID();
    const api = client(ws, bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'admin-1' })));
    await withRealWorkflows(h, worker, async () => {
      // A control that is not P6's is refused (T18).
      const foreign = await api.call('POST', api.base, {
        vendor: 'primavera-p6',
        credential: p6.credential(),
        controls: { repos: ['acme/tower'] },
      });
      expect(foreign.statusCode).toBe(422);

      const connect = await api.call('POST', api.base, {
        vendor: 'primavera-p6',
        credential: p6.credential(),
        controls: { projects: [String(tower.ObjectId), String(depot.ObjectId)], 'status-updates': ['enabled'] },
      });
      expect(connect.statusCode).toBe(202);
      const { integrationId } = connect.json() as { integrationId: string };
      await api.connected(integrationId);
      const names = async () =>
        (await h.su('cached_records').where({ integration_id: integrationId, resource: 'activities' })).map((r) =>
          String(r.payload.Name),
        );
      expect(await names()).toContain('journey activity');
      expect(await names()).not.toContain('office activity');

      // The admin's picker: the projects the service account sees, read from P6, stored nowhere.
      const choices = await api.call('GET', `${api.base}/${integrationId}/controls/choices`);
      expect(choices.statusCode).toBe(200);
      expect(choices.json().choices.map((c: { id: string }) => c.id)).toEqual(
        [tower, depot, office].map((p) => String(p.ObjectId)),
      );

      const started = await api.action(integrationId, 'status-update', {
        activityObjectId: String(activity.ObjectId),
        status: 'Completed',
      });
      expect(started.statusCode).toBe(202);
      const done = await pollUntil(
        async () => (await api.call('GET', started.json().links.status as string)).json(),
        (s) => s.status !== 'running',
        30_000,
      );
      expect(done).toMatchObject({
        status: 'completed',
        result: { externalId: String(activity.ObjectId), status: 'Completed' },
      });
      expect(control.get('activity', activity.ObjectId)!.fields.Status).toBe('Completed');
      expect((await api.status(integrationId)).controls).toEqual({
        projects: [String(tower.ObjectId), String(depot.ObjectId)],
        'status-updates': ['enabled'],
      });

      const receipts = await api.disconnectWithReceipt(integrationId);
      expect(receipts[0]).toMatchObject({ integrationId });
      expect(await h.su('cached_records').where({ integration_id: integrationId })).toEqual([]);
    });
  }, 240_000);
});
