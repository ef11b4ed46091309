/**
 * SAP end to end through the real workflows on the dev server: connect with a communication user
 * (stored encrypted, adopted and tested by the connect workflow) → the lifecycle's first sync (full
 * listing, server-paged) → changes at the tenant (an edit, a deletion flag, a new delivery) →
 * incremental sync → the id sweep reconciles records deleted without a flag → disconnect (nothing
 * to revoke at SAP) → purge, with the real @sap-cloud-sdk/odata-v2 connector and real Postgres. A
 * communication user lacking a scenario fails the connect naming it.
 */
import crypto from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import type { SyncBatchResult } from '../../activities/integrations/sync';
import { SAP_MATRIX_SCOPE, sapDescriptor } from '../../activities/vendors/sap';
import { createSapConnector } from '../../activities/vendors/sap/connector';
import { reservePendingIntegration } from '../../db/integrations';
import { startSapEmulator, type SapEmulator } from '../../emulators/sap';
import { workflowIds, type ConnectInput } from '../../workflows/definitions';
import { createVendorHarness, type VendorHarness } from './support/harness';
import { idSweepTraces, makeIdSweepDue, sweptOnce } from './support/idSweep';
import { ID_SWEEP_EVERY } from '../../workflows/sync';
import { afterFirstSync, disconnect, expectPurged, withDevServerWorker } from './support/vendorEndToEnd';
import { ADMIN, seedWorkspace, syncNowAndWait } from './support/workflowHelpers';

describe('SAP end to end (dev server, S/4HANA emulator, real Postgres)', () => {
  let sap: SapEmulator;
  let h: VendorHarness;
  beforeAll(async () => {
    sap = await startSapEmulator({ pageSize: 3 });
    const connector = createSapConnector({ apiDomains: ['127.0.0.1'], allowHttp: true });
    h = createVendorHarness([{ descriptor: sapDescriptor, connector }]);
  });
  afterAll(async () => {
    await h.close();
    await sap.stop();
  });

  /** What the API does at connect: the integration reserved, the credential stored encrypted (T6), then the run. */
  async function connectInput(workspaceId: string, credential: Record<string, string>): Promise<ConnectInput> {
    const integrationId = crypto.randomUUID();
    const row = { workspaceId, integrationId, vendor: 'sap', requestedScopes: [SAP_MATRIX_SCOPE], controls: {} };
    await reservePendingIntegration(h.db, { ...row, connectedBy: ADMIN.id });
    const stored = await h.secrets.put({
      workspaceId,
      integrationId,
      kind: 'service-account',
      state: 'pending',
      plaintext: JSON.stringify(credential),
    });
    return { ...row, vendor: 'sap', redirectUri: '', actor: ADMIN, credentialSecretId: stored.secretId };
  }

  it('T1 T4 T15 T18 T19 [sap]: connect → first sync → change at the tenant → incremental sync → id sweep → disconnect → purge receipt', async () => {
    const { control } = sap;
    const orders = Array.from({ length: 7 }, (_u, i) => control.addPurchaseOrder({ Supplier: `1730000${i}` }));
    const deliveries = Array.from({ length: 4 }, () => control.addDelivery());
    control.flagDeleted(orders[6]!);
    const user = control.addUser();
    const workspaceId = await seedWorkspace(h);
    const input = await connectInput(workspaceId, { url: sap.url, ...user });
    const { integrationId } = input;
    const ref = { workspaceId, integrationId };
    const cachedIds = async (resource: string) =>
      (await h.admin('cached_records').where({ integration_id: integrationId, resource }).pluck('external_id')).sort();
    const syncState = (resource: string) =>
      h.admin('sync_state').where({ integration_id: integrationId, resource }).first();
    await withDevServerWorker(h, 'sap-e2e', async ({ client, taskQueue }) => {
      const connect = await client.workflow.execute('connectWorkflow', {
        taskQueue,
        workflowId: workflowIds.connect(workspaceId, integrationId),
        args: [input],
      });
      // T1: the grant is the matrix row's read permission, nothing more.
      expect(connect).toMatchObject({ status: 'connected', grantedScopes: [SAP_MATRIX_SCOPE] });

      // First sync: a full listing of both entity sets over several server pages; the flagged order is not kept.
      const lifecycle = await afterFirstSync(client, { workspaceId, integrationId });
      expect(await cachedIds('purchase-orders')).toEqual(orders.slice(0, 6).sort());
      expect(await cachedIds('deliveries')).toEqual([...deliveries].sort());

      // Changes at the tenant: an edit, a deletion flag, a new delivery.
      control.clock.advance(60_000);
      control.change(orders[0]!, { PurchasingProcessingStatus: '05' });
      control.flagDeleted(orders[1]!);
      const added = control.addDelivery();
      const sync = () => syncNowAndWait(lifecycle);
      const incrementalFrom = control.requests.length;
      await sync();
      const reads = control.requests.slice(incrementalFrom).filter((r) => r.method === 'GET');
      expect(reads.every((r) => r.query.$filter !== undefined)).toBe(true);
      expect(await cachedIds('purchase-orders')).toEqual([orders[0]!, ...orders.slice(2, 6)].sort());
      const edited = await h
        .admin('cached_records')
        .where({ integration_id: integrationId, external_id: orders[0]! })
        .first();
      expect(edited.payload.PurchasingProcessingStatus).toBe('05');
      expect(await cachedIds('deliveries')).toEqual([...deliveries, added].sort());
      expect(await syncState('deliveries')).toMatchObject({ rounds_since_id_sweep: 1, id_sweep_started_at: null });

      // Deleted without a flag: no incremental round can see it; the id sweep does.
      control.remove(deliveries[2]!);
      control.remove(orders[3]!);
      await sync();
      expect(await cachedIds('deliveries')).toContain(deliveries[2]);
      await makeIdSweepDue(h, integrationId);
      const sweepFrom = control.requests.length;
      await sync();
      expect(await cachedIds('deliveries')).toEqual([deliveries[0]!, deliveries[1]!, deliveries[3]!, added].sort());
      expect(await cachedIds('purchase-orders')).toEqual([orders[0]!, orders[2]!, orders[4]!, orders[5]!].sort());
      const keyPages = control.requests.slice(sweepFrom).filter((r) => r.query.$orderby !== undefined);
      expect(keyPages.length).toBeGreaterThanOrEqual(4);
      expect(await idSweepTraces(h, integrationId)).toEqual(sweptOnce(['deliveries', 'purchase-orders']));

      // Disconnect (T4): SAP has nothing to revoke; our credential and the cache go.
      const disconnected = await disconnect(client, taskQueue, ref);
      expect(disconnected).toMatchObject({ revokedAtVendor: false, vendorNote: sapDescriptor.revocation.note });
      const receipt = await h.admin('purge_receipts').where({ receipt_id: disconnected.receiptId }).first();
      expect(receipt).toMatchObject({ integration_id: integrationId, vendor: 'sap' });
      expect(await lifecycle.describe().then((d) => d.status.name)).not.toBe('RUNNING');
    });
    // T19: nothing was ever written to the tenant; T18: only the submitted tenant, as its user.
    expect(control.writes()).toEqual([]);
    const basic = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    expect(control.requests.every((r) => r.headers.authorization === basic)).toBe(true);
    await expectPurged(h, integrationId, [
      'purchase-orders.read',
      'deliveries.read',
      'integration.connected',
      'deliveries.list-ids',
    ]);
  });

  it('an id sweep interrupted by a 504 resumes from its stored cursor and deletes only the records gone at the tenant', async () => {
    const { control } = sap;
    const user = control.addUser();
    const workspaceId = await seedWorkspace(h);
    const input = await connectInput(workspaceId, { url: sap.url, ...user });
    const ref = { workspaceId, integrationId: input.integrationId };
    await h.secrets.promote(workspaceId, input.credentialSecretId!);
    await h.admin('integrations').where({ integration_id: ref.integrationId }).update({ status: 'connected' });
    const kept = [control.addDelivery(), control.addDelivery(), control.addDelivery(), control.addDelivery()];
    const gone = control.addDelivery();
    control.remove(gone);
    await h.admin('cached_records').insert(
      [...kept, gone].map((id) => ({
        workspace_id: workspaceId,
        integration_id: ref.integrationId,
        resource: 'deliveries',
        external_id: id,
        payload: {},
        fetched_at: new Date(Date.now() - 60_000),
        expires_at: new Date(Date.now() + 3_600_000),
      })),
    );
    await h.admin('sync_state').insert({
      workspace_id: workspaceId,
      integration_id: ref.integrationId,
      resource: 'deliveries',
      id_sweep_started_at: new Date(),
    });
    const sweep = () =>
      new MockActivityEnvironment().run(h.activities.sweepSourceIds, {
        ...ref,
        resource: 'deliveries',
        maxPages: 1,
      }) as Promise<SyncBatchResult>;
    // Server pages of three: the first page commits its cursor (the last key listed).
    expect(await sweep()).toMatchObject({ pages: 1, recordsDeleted: 0, roundComplete: false });
    const cursor = (await h.admin('sync_state').where({ integration_id: ref.integrationId }).first()).id_sweep_cursor;
    expect(cursor).toEqual(expect.any(String));
    control.timeOut(1);
    await expect(sweep()).rejects.toMatchObject({ type: 'VendorUnavailable' });
    const state = await h.admin('sync_state').where({ integration_id: ref.integrationId }).first();
    expect(state.id_sweep_cursor).toBe(cursor);
    for (let batch = await sweep(); !batch.roundComplete; batch = await sweep());
    const resumed = control.requests.filter((r) => r.status === 200 && r.query.$filter?.includes(`gt '${cursor}'`));
    expect(resumed.length).toBeGreaterThan(0);
    const cached = await h
      .admin('cached_records')
      .where({ integration_id: ref.integrationId, resource: 'deliveries' })
      .pluck('external_id');
    expect(cached.sort()).toEqual([...kept].sort());
    expect(await h.admin('sync_state').where({ integration_id: ref.integrationId }).first()).toMatchObject({
      id_sweep_started_at: null,
      id_sweep_cursor: null,
      records_deleted: '1',
    });
  });

  it('T11 [sap]: a retry of the batch whose last page completed the round and started the id sweep answers both again, with no request to the tenant', async () => {
    const { control } = sap;
    const user = control.addUser();
    const workspaceId = await seedWorkspace(h);
    const input = await connectInput(workspaceId, { url: sap.url, ...user });
    const ref = { workspaceId, integrationId: input.integrationId };
    await h.secrets.promote(workspaceId, input.credentialSecretId!);
    await h.admin('integrations').where({ integration_id: ref.integrationId }).update({ status: 'connected' });
    control.addDelivery();
    const runId = crypto.randomUUID();
    const batch = (activityId: string, attempt: number): Promise<SyncBatchResult> =>
      new MockActivityEnvironment({
        workflowExecution: { workflowId: 'sap-sync-retry', runId },
        activityId,
        attempt,
      }).run(h.activities.syncPages, {
        ...ref,
        resource: 'deliveries',
        maxPages: 20,
        idSweepEvery: ID_SWEEP_EVERY,
      }) as Promise<SyncBatchResult>;
    for (let full = await batch('1', 1); !full.roundComplete; full = await batch('1', 1));
    await makeIdSweepDue(h, ref.integrationId);
    const round = await batch('2', 1);
    expect(round).toMatchObject({ roundComplete: true, idSweepPending: true });
    const requests = control.requests.length;
    const totals = await h.admin('sync_state').where({ integration_id: ref.integrationId }).first();
    expect(await batch('2', 2)).toEqual({ ...round, pages: 0, recordsUpserted: 0, recordsDeleted: 0 });
    expect(control.requests.length).toBe(requests);
    expect(await h.admin('sync_state').where({ integration_id: ref.integrationId }).first()).toEqual(totals);
  });

  it('T18 [sap]: a communication user without the delivery scenario fails the connect naming it; nothing stays connected', async () => {
    const user = sap.control.addUser(['SAP_COM_0053']);
    const workspaceId = await seedWorkspace(h);
    const input = await connectInput(workspaceId, { url: sap.url, ...user });
    await withDevServerWorker(h, 'sap-e2e-403', async ({ client, taskQueue }) => {
      const connect = await client.workflow.start('connectWorkflow', {
        taskQueue,
        workflowId: workflowIds.connect(workspaceId, input.integrationId),
        args: [input],
      });
      expect(await connect.result()).toEqual({ status: 'failed', failure: 'MissingScope' });
      // The connect test's failure says what the admin must add to the communication arrangement.
      const failures = (await connect.fetchHistory()).events!.flatMap((event) =>
        event.activityTaskFailedEventAttributes?.failure?.message
          ? [event.activityTaskFailedEventAttributes.failure.message]
          : [],
      );
      expect(failures).toEqual([
        'sap: forbidden (403): the communication user lacks the communication scenario for API_OUTBOUND_DELIVERY_SRV (Outbound Delivery Integration, SAP_COM_0106)',
      ]);
      expect(JSON.stringify(await connect.fetchHistory())).not.toContain(user.password);
    });
    const row = await h.admin('integrations').where({ integration_id: input.integrationId }).first();
    expect(row.status).not.toBe('connected');
  });
});
