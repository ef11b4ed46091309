/**
 * Oracle ERP Cloud connector (the shared REST client) against the Oracle ERP emulator: the service
 * account's sign-in and duty roles, offset paging, incremental rounds on LastUpdateDate, a query
 * cut off with 504 retried over narrower windows, 429 + Retry-After, the id sweep that finds
 * deleted rows, and no write ever leaving (T19).
 */
import { VendorFailureType } from '../../../activities/vendors/errors';
import { ORACLE_ERP_READ, oracleErpDescriptor } from '../../../activities/vendors/oracle-erp';
import { expectVendorError, harnessForFile } from '../support/connectorTests';
import { ERP_PASSWORD, PAGE_SIZE, startOracleErpHarness, waitingOutBudget, type OracleErpHarness } from './harness';

let h: OracleErpHarness;

harnessForFile(startOracleErpHarness, (started) => (h = started));

const requestsSince = (from: number) => h.emulator.control.requests.slice(from);
const minutes = (n: number) => n * 60_000;

describe('Oracle ERP Cloud connect', () => {
  test('T1 T6 [oracle-erp]: the connection test signs in as the submitted service account (basic auth) and reads only the two matrix resources, one row each, with GET', async () => {
    expect(oracleErpDescriptor.scopes).toEqual({ required: [ORACLE_ERP_READ], optional: [] });
    const from = h.emulator.control.requests.length;
    await h.connector.testConnection(h.context());
    const sent = requestsSince(from);
    expect(sent.map((r) => `${r.method} ${r.path.split('/').pop()} ${r.query.limit}`)).toEqual([
      'GET purchaseOrders 1',
      'GET suppliers 1',
    ]);
    const basic = Buffer.from(String(sent[0]!.headers.authorization).replace(/^Basic /, ''), 'base64').toString();
    expect(basic).toBe(`trackproject.integration:${ERP_PASSWORD}`);
  });

  test('T6 [oracle-erp]: a refused password is ReauthorizationRequired and a missing duty role is MissingScope naming the role, neither message carrying the secret', async () => {
    const refused = await expectVendorError(
      h.connector.testConnection(h.context(h.credential({ password: 'wrong-password' }))),
      VendorFailureType.ReauthorizationRequired,
    );
    expect(refused.message).not.toContain('wrong-password');
    h.emulator.control.addUser('buyer.only', 'buyer-password', ['Procurement REST Service Duty']);
    const missing = await expectVendorError(
      h.connector.testConnection(h.context(h.credential({ username: 'buyer.only', password: 'buyer-password' }))),
      VendorFailureType.MissingScope,
    );
    expect(missing.message).toContain('Supplier Profile Inquiry Duty');
    expect(missing.message).not.toContain('buyer-password');
  });

  test('T22 [oracle-erp]: a pod URL off the allowed hosts, or a credential lacking a field, is refused before any request', async () => {
    const from = h.emulator.control.requests.length;
    const offHosts = h.context(h.credential({ baseUrl: 'http://169.254.169.254' }));
    await expectVendorError(h.connector.testConnection(offHosts), VendorFailureType.VendorRejected);
    expect(offHosts.auditEntries.map((e) => `${e.action} ${e.outcome} ${e.errorClass}`)).toEqual([
      'purchase-orders.probe failure VendorRejected',
    ]);
    const lacking = await expectVendorError(
      h.connector.testConnection(h.context({ baseUrl: h.emulator.url, username: 'x' })),
      VendorFailureType.VendorRejected,
    );
    expect(lacking.message).toContain('password');
    expect(requestsSince(from)).toEqual([]);
  });
});

describe('Oracle ERP Cloud sync', () => {
  test('T11 [oracle-erp]: a full round pages with offset/limit, fields and onlyData; the next round asks only what changed since (q on LastUpdateDate) and brings each change once', async () => {
    const { control } = h.emulator;
    const supplier = control.add('suppliers', { Supplier: 'Northwind Steel', SupplierNumber: 'NWS', Status: 'ACTIVE' });
    const orders = Array.from({ length: 10 }, (_u, i) =>
      control.add('purchaseOrders', { OrderNumber: `PO-${i}`, SupplierId: supplier.id, Status: 'OPEN', Total: i }),
    );
    const ctx = h.context();
    const from = control.requests.length;
    const first = await h.round(ctx, 'purchase-orders', null);
    expect(first.records.map((r) => r.externalId).sort()).toEqual(orders.map((o) => String(o.id)).sort());
    const lists = requestsSince(from);
    expect(lists.map((r) => r.query.offset)).toEqual(['0', '4', '8']);
    expect(lists.every((r) => r.query.limit === String(PAGE_SIZE) && r.query.onlyData === 'true')).toBe(true);
    expect(lists[0]!.query.fields!.split(',')).toContain('LastUpdateDate');
    expect(lists[0]!.query.q).toBeUndefined();
    expect(first.records[0]!.payload).not.toHaveProperty('links');

    control.clock.advance(minutes(10));
    control.update('purchaseOrders', orders[3]!.id, { Status: 'CLOSED' });
    const added = control.add('purchaseOrders', { OrderNumber: 'PO-new', SupplierId: supplier.id, Status: 'OPEN' });
    const next = control.requests.length;
    const second = await h.round(ctx, 'purchase-orders', first.cursor);
    expect(second.records.map((r) => r.externalId).sort()).toEqual([String(orders[3]!.id), String(added.id)].sort());
    expect(second.records.find((r) => r.externalId === String(orders[3]!.id))!.payload.Status).toBe('CLOSED');
    expect(requestsSince(next)[0]!.query.q).toMatch(/^LastUpdateDate>='\d{4}-\d\d-\d\dT[\d:.]+\+00:00'$/);
    // Nothing changed: the overlap window re-reads the last changes, and they are not brought again.
    const third = await h.round(ctx, 'purchase-orders', second.cursor);
    expect(third.records).toEqual([]);
  });

  test('T11 [oracle-erp]: a query the pod cuts off (504) is retried over a halved window, page by page, until every change arrives', async () => {
    const { control } = h.emulator;
    const ctx = h.context();
    const baseline = await h.round(ctx, 'suppliers', null);
    const changed = Array.from({ length: 8 }, (_u, i) => {
      control.clock.advance(minutes(1));
      return control.add('suppliers', { Supplier: `Supplier ${i}`, SupplierNumber: `S${i}`, Status: 'ACTIVE' });
    });
    control.setMaxRowsPerQuery(3);
    try {
      const from = control.requests.length;
      const round = await h.round(ctx, 'suppliers', baseline.cursor);
      expect(round.records.map((r) => r.externalId).sort()).toEqual(changed.map((s) => String(s.id)).sort());
      const sent = requestsSince(from);
      expect(sent.filter((r) => r.status === 504).length).toBeGreaterThan(0);
      // Every retry after a cut-off is bounded on both sides, and the first narrower window starts where the cut one did.
      const cut = sent.findIndex((r) => r.status === 504);
      const retry = sent[cut + 1]!.query.q!;
      expect(retry).toContain(sent[cut]!.query.q!.split(';')[0]!);
      expect(retry).toMatch(/;LastUpdateDate<'/);
      expect(sent.every((r) => r.status === 200 || r.status === 504)).toBe(true);
    } finally {
      control.setMaxRowsPerQuery(10_000);
    }
  });

  test('T12 [oracle-erp]: a 429 is RateLimited with the pod’s Retry-After, which blocks the pod’s budget (no request leaves) until it passes', async () => {
    const { control } = h.emulator;
    const ctx = h.context();
    control.clock.advance(minutes(2));
    control.throttle(1, 7);
    const limited = await expectVendorError(
      h.connector.fetchPage(ctx, { resource: 'suppliers', cursor: null }),
      VendorFailureType.RateLimited,
    );
    expect(limited.details).toMatchObject({ status: 429, retryAfterMs: 7_000 });
    // Another integration on the same pod waits too: the budget is the pod's (countedPer host).
    const from = control.requests.length;
    const held = await expectVendorError(
      h.connector.fetchPage(h.context(), { resource: 'suppliers', cursor: null }),
      VendorFailureType.RateLimited,
    );
    expect(held.details.status).toBeUndefined();
    expect(requestsSince(from)).toEqual([]);
    control.clock.advance(7_000);
    const page = await h.connector.fetchPage(ctx, { resource: 'suppliers', cursor: null });
    expect(page.records.length).toBeGreaterThan(0);
  });

  test('T15 [oracle-erp]: the id sweep lists every id the pod holds, page by page, so a row deleted at Oracle (no tombstone) is found missing', async () => {
    const { control } = h.emulator;
    const ctx = h.context();
    const sweep = async () => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page: { ids: string[]; nextCursor: string | null } = await waitingOutBudget(
          () => h.connector.listSourceIds!(ctx, { resource: 'purchase-orders', cursor }),
          control.clock,
        );
        ids.push(...page.ids);
        cursor = page.nextCursor;
      } while (cursor);
      return ids;
    };
    const before = await sweep();
    expect(before.sort()).toEqual(
      control
        .rows('purchaseOrders')
        .map((r) => String(r.id))
        .sort(),
    );
    const gone = control.rows('purchaseOrders')[2]!;
    control.remove('purchaseOrders', gone.id);
    const after = await sweep();
    expect(after).not.toContain(String(gone.id));
    expect(after).toHaveLength(before.length - 1);
    const idRequests = control.requests.filter((r) => r.query.fields === 'POHeaderId');
    expect(idRequests.every((r) => r.query.orderBy === 'POHeaderId:asc' && r.query.q === undefined)).toBe(true);
  });

  test('T18 [oracle-erp]: a resource outside the matrix’s data in is refused before any request', async () => {
    const from = h.emulator.control.requests.length;
    await expectVendorError(
      h.connector.fetchPage(h.context(), { resource: 'invoices', cursor: null }),
      VendorFailureType.OutsideCustomerControls,
    );
    expect(requestsSince(from)).toEqual([]);
  });
});

describe('Oracle ERP Cloud data out', () => {
  test('T19 [oracle-erp]: every write is refused and audited before any call: no POST, PATCH, PUT, DELETE or MERGE reaches the pod', async () => {
    const ctx = h.context();
    const from = h.emulator.control.requests.length;
    for (const action of ['purchase-order.create', 'status-update', 'supplier.update'])
      await expectVendorError(
        h.connector.perform(ctx, action, { any: 'input' }),
        VendorFailureType.OutsideCustomerControls,
      );
    expect(requestsSince(from)).toEqual([]);
    expect(h.emulator.control.requests.filter((r) => r.method !== 'GET')).toEqual([]);
    expect(ctx.auditEntries.map((e) => `${e.action} ${e.outcome}`)).toEqual([
      'purchase-order.create failure',
      'status-update failure',
      'supplier.update failure',
    ]);
  });
});
