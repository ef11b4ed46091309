/**
 * Oracle ERP Cloud and Primavera P6 end to end through the real workflows on the dev server, with
 * the REST connectors against their emulators and real Postgres: the service-account credential is
 * stored encrypted and adopted by the connect workflow (its connection test proves the account),
 * the lifecycle's first sync fills the cache, a change at the vendor arrives with an incremental
 * "sync now", a record deleted at the vendor without a trace (neither keeps tombstones) leaves the
 * cache with the id sweep, data out goes (P6, enabled, selected project) or is refused before any
 * call (ERP), and disconnect destroys the credential, clears the cache and ends with a purge receipt.
 */
import crypto from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { ORACLE_ERP_READ, oracleErpDescriptor } from '../../activities/vendors/oracle-erp';
import { P6_READ, primaveraDescriptor } from '../../activities/vendors/primavera-p6';
import type { VendorId } from '../../activities/vendors/types';
import { reservePendingIntegration } from '../../db/integrations';
import { failureType } from '../../workflows/failures';
import { workflowIds, type ConnectResult } from '../../workflows/definitions';
import { devServer } from '../support/temporal';
import { startOracleErpHarness, type OracleErpHarness } from '../vendors/oracle-erp/harness';
import { startPrimaveraHarness, type PrimaveraHarness } from '../vendors/primavera-p6/harness';
import { createVendorHarness, type VendorHarness } from './support/harness';
import { idSweepTraces, makeIdSweepDue, sweptOnce } from './support/idSweep';
import { afterFirstSync, disconnect, expectPurged, vendorAction, withDevServerWorker } from './support/vendorEndToEnd';
import { ADMIN, seedWorkspace, syncNowAndWait } from './support/workflowHelpers';

describe('Oracle ERP Cloud and Primavera P6 end to end (dev server, emulators, real Postgres)', () => {
  let erp: OracleErpHarness;
  let p6: PrimaveraHarness;
  let h: VendorHarness;
  beforeAll(async () => {
    erp = await startOracleErpHarness({ pageSize: 500 });
    p6 = await startPrimaveraHarness();
    h = createVendorHarness([
      { descriptor: oracleErpDescriptor, connector: erp.connector },
      { descriptor: primaveraDescriptor, connector: p6.connector },
    ]);
  });
  afterAll(async () => {
    await h.close();
    await erp.emulator.stop();
    await p6.emulator.stop();
  });

  /** Stores the submitted credential as the API does (pending, encrypted) and runs the connect workflow. */
  async function connect(
    client: Awaited<ReturnType<typeof devServer>>['client'],
    taskQueue: string,
    input: {
      workspaceId: string;
      vendor: VendorId;
      scope: string;
      controls: Record<string, string[]>;
      credential: object;
    },
  ): Promise<{ integrationId: string; result: ConnectResult }> {
    const integrationId = crypto.randomUUID();
    // As the API does: the pending integration, then the credential, before the workflow gets its id.
    await reservePendingIntegration(h.db, {
      workspaceId: input.workspaceId,
      integrationId,
      vendor: input.vendor,
      requestedScopes: [input.scope],
      controls: input.controls,
      connectedBy: ADMIN.id,
    });
    const stored = await h.secrets.put({
      workspaceId: input.workspaceId,
      integrationId,
      kind: 'service-account',
      state: 'pending',
      plaintext: JSON.stringify(input.credential),
    });
    const result = await client.workflow.execute('connectWorkflow', {
      taskQueue,
      workflowId: workflowIds.connect(input.workspaceId, integrationId),
      args: [
        {
          workspaceId: input.workspaceId,
          integrationId,
          vendor: input.vendor,
          requestedScopes: [input.scope],
          controls: input.controls,
          redirectUri: '',
          actor: ADMIN,
          credentialSecretId: stored.secretId,
        },
      ],
    });
    return { integrationId, result };
  }

  const cached = async (integrationId: string, resource: string) =>
    (
      await h
        .admin('cached_records')
        .where({ integration_id: integrationId, resource })
        .select('external_id', 'payload')
    ).map((r): Record<string, unknown> & { id: string } => ({
      ...(r.payload as Record<string, unknown>),
      id: String(r.external_id),
    }));

  const cachedIds = async (integrationId: string, resource: string) =>
    (await cached(integrationId, resource)).map((r) => r.id).sort();

  async function syncNow(
    client: Awaited<ReturnType<typeof devServer>>['client'],
    workspaceId: string,
    integrationId: string,
  ) {
    await syncNowAndWait(client.workflow.getHandle(workflowIds.lifecycle(workspaceId, integrationId)));
  }

  /**
   * `remove` deletes a record at the vendor, which keeps no trace of it: the next incremental sync
   * keeps it cached; the sync whose rounds are due for the id sweep deletes it (audited) and nothing
   * else of `resources`.
   */
  async function expectIdSweepFinds(
    client: Awaited<ReturnType<typeof devServer>>['client'],
    ref: { workspaceId: string; integrationId: string },
    deleted: { resource: string; id: string; remove: () => void },
    resources: readonly string[],
  ) {
    const { workspaceId, integrationId } = ref;
    deleted.remove();
    await syncNow(client, workspaceId, integrationId);
    const before = new Map<string, string[]>();
    for (const resource of resources) before.set(resource, await cachedIds(integrationId, resource));
    expect(before.get(deleted.resource)).toContain(deleted.id);
    await makeIdSweepDue(h, integrationId);
    await syncNow(client, workspaceId, integrationId);
    for (const resource of resources)
      expect(await cachedIds(integrationId, resource)).toEqual(
        before.get(resource)!.filter((id) => resource !== deleted.resource || id !== deleted.id),
      );
    expect(await idSweepTraces(h, integrationId)).toEqual(sweptOnce(resources));
    const listings = await h
      .admin('audit_log')
      .where({ integration_id: integrationId })
      .whereLike('action', '%.ids')
      .distinct('action')
      .pluck('action');
    expect(listings.sort()).toEqual(resources.map((resource) => `${resource}.ids`).sort());
  }

  async function disconnectAndCheck(
    client: Awaited<ReturnType<typeof devServer>>['client'],
    taskQueue: string,
    ref: { workspaceId: string; integrationId: string },
    vendor: VendorId,
    note: string,
  ) {
    const disconnected = await disconnect(client, taskQueue, ref);
    expect(disconnected).toMatchObject({ revokedAtVendor: false, vendorNote: note });
    const receipt = await h.admin('purge_receipts').where({ receipt_id: disconnected.receiptId }).first();
    expect(receipt).toMatchObject({ integration_id: ref.integrationId, vendor });
    await expectPurged(h, ref.integrationId);
  }

  it('T1 T4 T6 T11 T15 T18 T19 [oracle-erp]: connect (service account adopted) → first sync → change at Oracle → incremental sync → deletion without a trace found by the id sweep → writes refused before any call → disconnect → purge receipt', async () => {
    const { control } = erp.emulator;
    const supplier = control.add('suppliers', { Supplier: 'Northwind Steel', SupplierNumber: 'NWS', Status: 'ACTIVE' });
    const orders = [1, 2, 3].map((n) =>
      control.add('purchaseOrders', { OrderNumber: `PO-${n}`, SupplierId: supplier.id, Status: 'OPEN', Total: n }),
    );
    const workspaceId = await seedWorkspace(h);
    await withDevServerWorker(h, 'oracle-erp-e2e', async ({ client, taskQueue }) => {
      // A password Oracle refuses fails the connect, naming no secret, and keeps nothing.
      const refused = await connect(client, taskQueue, {
        workspaceId,
        vendor: 'oracle-erp',
        scope: ORACLE_ERP_READ,
        controls: {},
        credential: erp.credential({ password: 'not-the-password' }),
      });
      expect(refused.result.status).toBe('failed');
      expect(JSON.stringify(refused.result)).not.toContain('not-the-password');

      const { integrationId, result } = await connect(client, taskQueue, {
        workspaceId,
        vendor: 'oracle-erp',
        scope: ORACLE_ERP_READ,
        controls: {},
        credential: erp.credential(),
      });
      expect(result).toMatchObject({ status: 'connected', grantedScopes: [ORACLE_ERP_READ] });
      const ref = { workspaceId, integrationId };
      await afterFirstSync(client, { workspaceId, integrationId });
      expect((await cached(integrationId, 'purchase-orders')).map((r) => r.OrderNumber).sort()).toEqual([
        'PO-1',
        'PO-2',
        'PO-3',
      ]);
      expect((await cached(integrationId, 'suppliers')).map((r) => r.Supplier)).toContain('Northwind Steel');

      // A change at Oracle arrives with the next (incremental) sync.
      control.clock.advance(10 * 60_000);
      control.update('purchaseOrders', orders[1]!.id, { Status: 'CLOSED' });
      const from = control.requests.length;
      await syncNow(client, workspaceId, integrationId);
      expect(
        (await cached(integrationId, 'purchase-orders')).find((r) => r.id === String(orders[1]!.id)),
      ).toMatchObject({
        Status: 'CLOSED',
      });
      const lists = control.requests.slice(from).filter((r) => r.path.endsWith('/purchaseOrders'));
      expect(lists.length).toBeGreaterThan(0);
      expect(lists.every((r) => String(r.query.q).startsWith("LastUpdateDate>='"))).toBe(true);

      await expectIdSweepFinds(
        client,
        ref,
        {
          resource: 'purchase-orders',
          id: String(orders[2]!.id),
          remove: () => control.remove('purchaseOrders', orders[2]!.id),
        },
        ['purchase-orders', 'suppliers'],
      );

      // T19: no data out: the action workflow is refused, and no write reaches Oracle.
      const action = vendorAction(client, taskQueue, ref, {
        vendor: 'oracle-erp',
        action: 'purchase-order.create',
        input: {},
      });
      const error = await action.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(WorkflowFailedError);
      // The generic action activity refuses it first (the row's data out is empty); the connector would too.
      expect(failureType(error)).toBe('ActionNotInDataOut');
      expect(control.requests.filter((r) => r.method !== 'GET')).toEqual([]);

      await disconnectAndCheck(client, taskQueue, ref, 'oracle-erp', oracleErpDescriptor.revocation.note);
    });
  }, 180_000);

  it('T1 T4 T6 T11 T15 T18 T19 [primavera-p6]: connect with a project selection → first sync of the selected projects only → change in P6 → incremental sync → deletion without a trace found by the id sweep → status update (enabled) → disconnect → purge receipt', async () => {
    const { control } = p6.emulator;
    const { tower, depot, office } = p6.projects;
    const activity = (project: typeof tower, n: number) =>
      control.add('activity', {
        Id: `E${n}`,
        Name: `e2e activity ${n}`,
        ProjectObjectId: project.ObjectId,
        Status: 'Not Started',
      });
    const towerActivity = activity(tower, 1);
    const depotActivity = activity(depot, 2);
    activity(office, 3);
    control.add('baselineProject', { Id: 'P-1-B1', Name: 'Original plan', OriginalProjectObjectId: tower.ObjectId });
    const selection = [String(tower.ObjectId), String(depot.ObjectId)];
    const workspaceId = await seedWorkspace(h);
    await withDevServerWorker(h, 'primavera-e2e', async ({ client, taskQueue }) => {
      const { integrationId, result } = await connect(client, taskQueue, {
        workspaceId,
        vendor: 'primavera-p6',
        scope: P6_READ,
        controls: { projects: selection, 'status-updates': ['enabled'] },
        credential: p6.credential(),
      });
      expect(result).toMatchObject({ status: 'connected', grantedScopes: [P6_READ] });
      const ref = { workspaceId, integrationId };
      await afterFirstSync(client, { workspaceId, integrationId });
      expect((await cached(integrationId, 'schedules')).map((r) => r.Name).sort()).toEqual(['Depot', 'Tower A']);
      expect((await cached(integrationId, 'activities')).map((r) => r.Name).sort()).toEqual([
        'e2e activity 1',
        'e2e activity 2',
      ]);
      expect((await cached(integrationId, 'baselines')).map((r) => r.Name)).toEqual(['Original plan']);

      control.clock.advance(5 * 60_000);
      control.update('activity', towerActivity.ObjectId, { Name: 'e2e activity 1 (re-planned)' });
      await syncNow(client, workspaceId, integrationId);
      expect((await cached(integrationId, 'activities')).map((r) => r.Name)).toContain('e2e activity 1 (re-planned)');

      await expectIdSweepFinds(
        client,
        ref,
        {
          resource: 'activities',
          id: String(depotActivity.ObjectId),
          remove: () => control.remove('activity', depotActivity.ObjectId),
        },
        ['schedules', 'activities', 'baselines'],
      );

      // Data out (T19): the admin enabled status updates on the selected projects.
      const changed = await vendorAction(
        client,
        taskQueue,
        { workspaceId, integrationId },
        {
          vendor: 'primavera-p6',
          action: 'status-update',
          input: { activityObjectId: String(towerActivity.ObjectId), status: 'In Progress' },
        },
      );
      expect(changed).toEqual({ externalId: String(towerActivity.ObjectId), status: 'In Progress' });
      expect(control.get('activity', towerActivity.ObjectId)!.fields.Status).toBe('In Progress');

      await disconnectAndCheck(client, taskQueue, ref, 'primavera-p6', primaveraDescriptor.revocation.note);
    });
    // The unselected project was never named in a request (T18).
    const named = control.requests.flatMap((r) =>
      [...String(r.query.Filter ?? '').matchAll(/ObjectId:eq:(\d+)/g)].map((m) => Number(m[1])),
    );
    expect(named).not.toContain(office.ObjectId);
    expect(named).toContain(tower.ObjectId);
  }, 180_000);
});
