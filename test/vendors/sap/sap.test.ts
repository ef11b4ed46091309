/**
 * SAP connector (real @sap-cloud-sdk/odata-v2) against the S/4HANA emulator: a communication user's
 * connect test, server-driven paging, incremental rounds by change time with the overlap window,
 * deletion flags, the id sweep's listing, the tenant allow-list (T18), read-only (T19), and the
 * vendor's refusals (401, 403 naming the scenario, 429 + Retry-After, 504).
 */
import { VendorFailureType } from '../../../activities/vendors/errors';
import { createSapConnector } from '../../../activities/vendors/sap/connector';
import type { Connector, ConnectorContext } from '../../../activities/vendors/types';
import { startSapEmulator, type CommunicationUser, type SapEmulator } from '../../../emulators/sap';
import { expectVendorError, fullRound, serviceAccountContext } from '../support/connectorTests';

let emulator: SapEmulator;
let connector: Connector;
let user: CommunicationUser;

beforeAll(async () => {
  emulator = await startSapEmulator({ pageSize: 3 });
  connector = createSapConnector({ apiDomains: ['127.0.0.1'], allowHttp: true });
  user = emulator.control.addUser();
});

afterAll(() => emulator.stop());

const context = (credential: Record<string, string> = { url: emulator.url, ...user }) =>
  serviceAccountContext({ vendor: 'sap', credential, scopes: ['Read purchase orders, deliveries'] });

const round = (ctx: ConnectorContext, resource: string, cursor: string | null) =>
  fullRound(connector, ctx, resource, cursor);

async function allIds(ctx: ConnectorContext, resource: string) {
  const ids: string[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const page: { ids: string[]; nextCursor: string | null } = await connector.listSourceIds!(ctx, {
      resource,
      cursor,
    });
    ids.push(...page.ids);
    cursor = page.nextCursor;
    pages += 1;
  } while (cursor !== null);
  return { ids, pages };
}

const since = (from: number) => emulator.control.requests.slice(from);

describe('SAP S/4HANA connector', () => {
  it('T18 [sap]: the connect test reads one record of each service as the communication user of the submitted tenant', async () => {
    const from = emulator.control.requests.length;
    const ctx = context();
    await connector.testConnection(ctx);
    const requests = since(from);
    expect(requests.map((r) => [r.method, r.path, r.query.$top])).toEqual([
      ['GET', '/sap/opu/odata/sap/API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder', '1'],
      ['GET', '/sap/opu/odata/sap/API_OUTBOUND_DELIVERY_SRV;v=0002/A_OutbDeliveryHeader', '1'],
    ]);
    const basic = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    expect(requests.every((r) => r.headers.authorization === basic && r.status === 200)).toBe(true);
    expect(ctx.auditEntries.map((e) => [e.action, e.outcome])).toEqual([
      ['purchase-orders.read', 'success'],
      ['deliveries.read', 'success'],
    ]);
  });

  it('T18 [sap]: a credential URL outside the allowed tenant hosts is refused before any request, and audited', async () => {
    const from = emulator.control.requests.length;
    for (const url of ['http://localhost:1', 'https://evil.test', `${emulator.url}/sap/opu/odata/sap`, 'not a url']) {
      const ctx = context({ url, username: user.username, password: user.password });
      const error = await expectVendorError(connector.fetchPage(ctx, { resource: 'purchase-orders', cursor: null }));
      expect(error.type).toBe(VendorFailureType.OutsideCustomerControls);
      expect(error.message).not.toContain(user.password);
      expect(ctx.auditEntries.map((e) => e.outcome)).toEqual(['failure']);
    }
    expect(since(from)).toHaveLength(0);
  });

  it('T18 [sap]: a credential lacking a field is refused by name, never echoing a value', async () => {
    const error = await expectVendorError(
      connector.testConnection(context({ url: emulator.url, username: user.username })),
    );
    expect(error.message).toContain('password');
    expect(error.message).not.toContain(user.username);
  });

  it('pages with $skiptoken, then reads only what changed since the watermark; flagged purchase orders are deletions', async () => {
    const ids = Array.from({ length: 7 }, (_, n) => emulator.control.addPurchaseOrder({ Supplier: `1730000${n}` }));
    const ctx = context();
    const first = await round(ctx, 'purchase-orders', null);
    expect(first.pages).toBe(3);
    expect(first.records.map((r) => r.externalId)).toEqual(expect.arrayContaining(ids));
    expect(first.deleted).toEqual([]);
    const firstRequests = emulator.control.requests.filter((r) => r.path.endsWith('/A_PurchaseOrder')).slice(-3);
    expect(firstRequests.map((r) => r.query.$skiptoken)).toEqual([undefined, '3', '6']);
    expect(firstRequests[0]!.query.$select).not.toContain('CreatedByUser');
    expect(first.records[0]!.payload).not.toHaveProperty('__metadata');

    // Nothing changed: the overlap window re-reads, the watermark drops what was returned.
    const quiet = await round(ctx, 'purchase-orders', first.cursor);
    expect(quiet.records).toEqual([]);
    const quietRequest = emulator.control.requests.filter((r) => r.path.endsWith('/A_PurchaseOrder')).at(-1)!;
    expect(quietRequest.query.$filter).toMatch(/^\(LastChangeDateTime ge datetimeoffset'\d{4}-\d\d-\d\dT[\d:.]+Z'\)$/);

    emulator.control.clock.advance(60_000);
    emulator.control.change(ids[2]!, { PurchasingProcessingStatus: '05' });
    emulator.control.flagDeleted(ids[4]!);
    const next = await round(ctx, 'purchase-orders', quiet.cursor);
    expect(next.records.map((r) => [r.externalId, r.payload.PurchasingProcessingStatus])).toEqual([[ids[2], '05']]);
    expect(next.deleted).toEqual([ids[4]]);
  });

  it('deliveries: date-only change stamps are re-read for two days, a second change on the same day still arrives', async () => {
    const id = emulator.control.addDelivery();
    const ctx = context();
    const first = await round(ctx, 'deliveries', null);
    expect(first.records.map((r) => r.externalId)).toContain(id);
    emulator.control.change(id, { OverallGoodsMovementStatus: 'B' });
    const second = await round(ctx, 'deliveries', first.cursor);
    expect(second.records.map((r) => [r.externalId, r.payload.OverallGoodsMovementStatus])).toEqual([[id, 'B']]);
    const request = emulator.control.requests.filter((r) => r.path.endsWith('/A_OutbDeliveryHeader')).at(-1)!;
    expect(request.query.$filter).toMatch(
      /^\(\(LastChangeDate ge datetime'\d{4}-\d\d-\d\dT00:00:00.000' or CreationDate ge datetime'\d{4}-\d\d-\d\dT00:00:00.000'\)\)$/,
    );
    emulator.control.change(id, { OverallGoodsMovementStatus: 'C' });
    const third = await round(ctx, 'deliveries', second.cursor);
    expect(third.records.map((r) => [r.externalId, r.payload.OverallGoodsMovementStatus])).toEqual([[id, 'C']]);
  });

  it('deleted records: the id sweep lists what exists now, without flagged or removed records', async () => {
    const keep = emulator.control.addDelivery();
    const gone = emulator.control.addDelivery();
    const flagged = emulator.control.addPurchaseOrder();
    const archived = emulator.control.addPurchaseOrder();
    emulator.control.flagDeleted(flagged);
    emulator.control.remove(archived);
    emulator.control.remove(gone);
    const ctx = context();
    const deliveries = await allIds(ctx, 'deliveries');
    expect(deliveries.ids).toContain(keep);
    expect(deliveries.ids).not.toContain(gone);
    expect(new Set(deliveries.ids).size).toBe(deliveries.ids.length);
    expect(deliveries.pages).toBeGreaterThan(1);
    const orders = await allIds(ctx, 'purchase-orders');
    expect(orders.ids).not.toContain(flagged);
    expect(orders.ids).not.toContain(archived);
  });

  it('a credential the tenant rejects (401, WWW-Authenticate: Basic) needs a new credential', async () => {
    const locked = emulator.control.addUser();
    emulator.control.lockUser(locked.username);
    const error = await expectVendorError(connector.testConnection(context({ url: emulator.url, ...locked })));
    expect(error.type).toBe(VendorFailureType.ReauthorizationRequired);
    expect(error.message).not.toContain(locked.password);
    expect(emulator.control.requests.at(-1)!.responseHeaders['www-authenticate']).toMatch(/^Basic realm=/);
  });

  it('a missing authorization (403) fails naming the communication scenario the service needs', async () => {
    const poOnly = emulator.control.addUser(['SAP_COM_0053']);
    const error = await expectVendorError(connector.testConnection(context({ url: emulator.url, ...poOnly })));
    expect(error.type).toBe(VendorFailureType.MissingScope);
    expect(error.message).toContain('API_OUTBOUND_DELIVERY_SRV');
    const none = emulator.control.addUser([]);
    const po = await expectVendorError(
      connector.fetchPage(context({ url: emulator.url, ...none }), { resource: 'purchase-orders', cursor: null }),
    );
    expect(po.message).toContain('SAP_COM_0053');
  });

  it('504 is VendorUnavailable, 429 with Retry-After is RateLimited with the wait; the round resumes from its cursor', async () => {
    const ctx = context();
    const first = await connector.fetchPage(ctx, { resource: 'purchase-orders', cursor: null });
    expect(first.roundComplete).toBe(false);
    emulator.control.timeOut(1);
    const timedOut = await expectVendorError(
      connector.fetchPage(ctx, { resource: 'purchase-orders', cursor: first.nextCursor }),
    );
    expect(timedOut.type).toBe(VendorFailureType.VendorUnavailable);
    emulator.control.throttle(1, 1);
    const limited = await expectVendorError(
      connector.fetchPage(ctx, { resource: 'purchase-orders', cursor: first.nextCursor }),
    );
    expect(limited.type).toBe(VendorFailureType.RateLimited);
    expect(limited.details.retryAfterMs).toBe(1000);
    // The 429 blocks the tenant's budget for every worker until Retry-After has passed.
    const blocked = await expectVendorError(
      connector.fetchPage(ctx, { resource: 'purchase-orders', cursor: first.nextCursor }),
    );
    expect(blocked.type).toBe(VendorFailureType.RateLimited);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const resumed = await connector.fetchPage(ctx, { resource: 'purchase-orders', cursor: first.nextCursor });
    expect(emulator.control.requests.at(-1)!.query.$skiptoken).toBe('3');
    expect(resumed.records.length).toBeGreaterThan(0);
  });

  it('T19 [sap]: every write is refused before any call, and no write request reaches the tenant', async () => {
    const from = emulator.control.requests.length;
    for (const action of ['create-purchase-order', 'update-delivery', 'delete-purchase-order']) {
      const ctx = context();
      const error = await expectVendorError(connector.perform(ctx, action, { PurchaseOrder: '4500000001' }));
      expect(error.type).toBe(VendorFailureType.OutsideCustomerControls);
      expect(ctx.auditEntries.map((e) => [e.action, e.outcome])).toEqual([[action, 'failure']]);
    }
    expect(since(from)).toHaveLength(0);
    expect(emulator.control.writes()).toEqual([]);
    expect(
      await expectVendorError(connector.fetchPage(context(), { resource: 'suppliers', cursor: null })),
    ).toMatchObject({
      type: VendorFailureType.OutsideCustomerControls,
    });
  });

  it('the emulator holds writes to the OData contract: no CSRF token, 403 Required', async () => {
    const auth = `Basic ${Buffer.from(`${user.username}:${user.password}`).toString('base64')}`;
    const response = await fetch(`${emulator.url}/sap/opu/odata/sap/API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder`, {
      method: 'POST',
      headers: { authorization: auth, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(response.status).toBe(403);
    expect(response.headers.get('x-csrf-token')).toBe('Required');
    emulator.control.requests.splice(emulator.control.requests.length - 1, 1);
  });
});
