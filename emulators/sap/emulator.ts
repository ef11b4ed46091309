/**
 * SAP S/4HANA emulator: two OData V2 services of one tenant, following the contracts our connector
 * relies on —
 * - `API_PURCHASEORDER_PROCESS_SRV/A_PurchaseOrder` (communication scenario SAP_COM_0053) and
 *   `API_OUTBOUND_DELIVERY_SRV;v=0002/A_OutbDeliveryHeader` (SAP_COM_0106), JSON as V2 writes it:
 *   `{ d: { results, __next?, __count? } }`, dates as `/Date(ms)/` (`/Date(ms+0000)/` for
 *   DateTimeOffset), each result with its `__metadata`;
 * - system query options `$filter` (see `filter.ts`), `$select`, `$orderby` (one property),
 *   `$top`, `$skip`, `$inlinecount=allpages`, `$format=json`; server-driven paging of `pageSize`
 *   with `__next` carrying an offset `$skiptoken` (as SADL services do: a deletion between pages
 *   shifts the pages); unknown options and properties are 400 with an OData error;
 * - basic authentication of communication users: 401 with `WWW-Authenticate: Basic` for a wrong or
 *   locked user, 403 naming the scenario when the user's arrangements lack the service's;
 * - writes (POST, PUT, PATCH, MERGE, DELETE) need an `x-csrf-token` fetched with a GET
 *   (`x-csrf-token: Fetch`), else 403 `x-csrf-token: Required`; writes are not emulated beyond that
 *   (501): the row never writes, and the request log shows any that came;
 * - fair-use throttling on demand (429 + Retry-After) and gateway timeouts (504).
 */
import crypto from 'node:crypto';
import {
  EmulatorRouter,
  createEmulatorClock,
  createRateStorm,
  startEmulatorServer,
  tooManyRequests,
  type EmulatorClock,
  type EmulatorRequest,
  type EmulatorResponse,
  type LoggedRequest,
} from '../shared';
import { FilterSyntaxError, parseFilter, type FilterRecord, type FilterValue } from './filter';

export type SapScenario = 'SAP_COM_0053' | 'SAP_COM_0106';

interface PropertyDef {
  name: string;
  type: 'Edm.String' | 'Edm.DateTime' | 'Edm.DateTimeOffset';
}

interface EntitySetDef {
  service: string;
  entitySet: string;
  entityType: string;
  key: string;
  scenario: SapScenario;
  properties: PropertyDef[];
}

const s = (name: string): PropertyDef => ({ name, type: 'Edm.String' });
const date = (name: string): PropertyDef => ({ name, type: 'Edm.DateTime' });
const stamp = (name: string): PropertyDef => ({ name, type: 'Edm.DateTimeOffset' });

const PURCHASE_ORDERS: EntitySetDef = {
  service: 'API_PURCHASEORDER_PROCESS_SRV',
  entitySet: 'A_PurchaseOrder',
  entityType: 'API_PURCHASEORDER_PROCESS_SRV.A_PurchaseOrderType',
  key: 'PurchaseOrder',
  scenario: 'SAP_COM_0053',
  properties: [
    s('PurchaseOrder'),
    s('CompanyCode'),
    s('PurchaseOrderType'),
    s('PurchasingOrganization'),
    s('PurchasingGroup'),
    s('Supplier'),
    s('DocumentCurrency'),
    date('PurchaseOrderDate'),
    s('PurchasingProcessingStatus'),
    s('PurchasingDocumentDeletionCode'),
    s('CreatedByUser'),
    date('CreationDate'),
    stamp('LastChangeDateTime'),
  ],
};

const DELIVERIES: EntitySetDef = {
  service: 'API_OUTBOUND_DELIVERY_SRV;v=0002',
  entitySet: 'A_OutbDeliveryHeader',
  entityType: 'API_OUTBOUND_DELIVERY_SRV.A_OutbDeliveryHeaderType',
  key: 'DeliveryDocument',
  scenario: 'SAP_COM_0106',
  properties: [
    s('DeliveryDocument'),
    s('DeliveryDocumentType'),
    s('ShippingPoint'),
    s('SalesOrganization'),
    s('ShipToParty'),
    s('SoldToParty'),
    date('DeliveryDate'),
    date('PlannedGoodsIssueDate'),
    s('OverallGoodsMovementStatus'),
    s('OverallSDProcessStatus'),
    s('CreatedByUser'),
    s('LastChangedByUser'),
    date('CreationDate'),
    date('LastChangeDate'),
  ],
};

const ENTITY_SETS = [PURCHASE_ORDERS, DELIVERIES];
const ODATA_ROOT = '/sap/opu/odata/sap';
const WRITE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'MERGE', 'DELETE']);
const DEFAULT_PAGE_SIZE = 1000;
const DAY_MS = 24 * 60 * 60_000;
const REALM = 'Basic realm="SAP NetWeaver Application Server [S4H/100]"';
const SUPPORTED_OPTIONS = new Set([
  '$filter',
  '$select',
  '$orderby',
  '$top',
  '$skip',
  '$skiptoken',
  '$inlinecount',
  '$format',
]);

type Values = Record<string, FilterValue>;

interface StoredRecord {
  values: Values;
}

export interface SapEmulatorOptions {
  clock?: EmulatorClock;
  /** Records per server page (`__next` beyond it). */
  pageSize?: number;
}

export interface CommunicationUser {
  username: string;
  password: string;
}

export interface SapEmulatorControl {
  clock: EmulatorClock;
  requests: LoggedRequest[];
  /** A communication user with arrangements for `scenarios`. */
  addUser(scenarios?: SapScenario[]): CommunicationUser;
  lockUser(username: string): void;
  addPurchaseOrder(fields?: Record<string, string>): string;
  addDelivery(fields?: Record<string, string>): string;
  /** Changes a record's fields and stamps the change (LastChangeDateTime / LastChangeDate). */
  change(id: string, fields: Record<string, string>): void;
  /** `PurchasingDocumentDeletionCode` = 'L': the purchase order is deleted and stays listed until archived. */
  flagDeleted(purchaseOrder: string): void;
  /** The record disappears with no flag (an archived purchase order, a deleted delivery). */
  remove(id: string): void;
  /** The next `count` requests answer 429 with Retry-After. */
  throttle(count: number, retryAfterSeconds: number): void;
  /** The next `count` requests answer 504 (the gateway's timeout). */
  timeOut(count: number): void;
  /** Write requests received (none should ever come from the connector). */
  writes(): LoggedRequest[];
}

export interface SapEmulator {
  url: string;
  stop(): Promise<void>;
  control: SapEmulatorControl;
}

function odataError(status: number, code: string, message: string, headers: Record<string, string> = {}) {
  return { status, headers, body: { error: { code, message: { lang: 'en', value: message } } } };
}

/** OData V2 JSON: `/Date(ms)/`, with `+0000` for DateTimeOffset. */
function jsonValue(property: PropertyDef, value: FilterValue): unknown {
  if (value === null || property.type === 'Edm.String') return value;
  return property.type === 'Edm.DateTime' ? `/Date(${value})/` : `/Date(${value}+0000)/`;
}

export async function startSapEmulator(options: SapEmulatorOptions = {}): Promise<SapEmulator> {
  const clock = options.clock ?? createEmulatorClock();
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const users = new Map<string, { password: string; scenarios: Set<SapScenario>; locked: boolean }>();
  const csrfTokens = new Set<string>();
  const data = new Map<EntitySetDef, Map<string, StoredRecord>>(ENTITY_SETS.map((set) => [set, new Map()]));
  const storm = createRateStorm();
  let sequence = { po: 4_500_000_000, delivery: 80_000_000 };
  let baseUrl = '';

  const today = () => Math.floor(clock.now() / DAY_MS) * DAY_MS;

  function authenticate(request: EmulatorRequest): string | undefined {
    const match = /^Basic\s+(\S+)$/i.exec(request.headers.authorization ?? '');
    if (!match) return undefined;
    const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    const user = users.get(decoded.slice(0, colon));
    const password = decoded.slice(colon + 1);
    if (!user || user.locked || colon < 0) return undefined;
    const a = Buffer.from(password);
    const b = Buffer.from(user.password);
    return a.length === b.length && crypto.timingSafeEqual(a, b) ? decoded.slice(0, colon) : undefined;
  }

  function entitySetOf(service: string, segment: string): EntitySetDef | undefined {
    const entitySet = segment.replace(/\(.*\)$/, '');
    return ENTITY_SETS.find((set) => set.service === service && set.entitySet === entitySet);
  }

  function locate(id: string): { set: EntitySetDef; record: StoredRecord } {
    for (const [set, records] of data) {
      const record = records.get(id);
      if (record) return { set, record };
    }
    throw new Error(`no record ${id}`);
  }

  function query(set: EntitySetDef, request: EmulatorRequest): EmulatorResponse {
    const unsupported = [...request.query.keys()].find((name) => name.startsWith('$') && !SUPPORTED_OPTIONS.has(name));
    if (unsupported) return odataError(400, 'SY/530', `System query option ${unsupported} is not supported`);
    const format = request.query.get('$format');
    if (format !== null && format !== 'json') return odataError(400, 'SY/530', 'Only $format=json is served');
    const names = new Set(set.properties.map((property) => property.name));
    let rows = [...data.get(set)!.values()].map((record) => record.values);
    try {
      const filter = request.query.get('$filter');
      if (filter) {
        const predicate = parseFilter(filter, names);
        rows = rows.filter((values) => predicate(values as FilterRecord));
      }
    } catch (error) {
      if (error instanceof FilterSyntaxError)
        return odataError(400, '/IWBEP/CM_MGW_RT/022', `Invalid filter: ${error.message}`);
      throw error;
    }
    const orderby = (request.query.get('$orderby') ?? `${set.key} asc`).trim().split(/\s+/);
    if (!names.has(orderby[0]!) || orderby.length > 2 || !['asc', 'desc', undefined].includes(orderby[1]))
      return odataError(400, '/IWBEP/CM_MGW_RT/022', 'Invalid $orderby');
    const [by, direction] = orderby as [string, string | undefined];
    rows.sort((a, b) => {
      const order = String(a[by] ?? '') < String(b[by] ?? '') ? -1 : String(a[by] ?? '') > String(b[by] ?? '') ? 1 : 0;
      return direction === 'desc' ? -order : order;
    });
    const selected = request.query
      .get('$select')
      ?.split(',')
      .map((name) => name.trim()) ?? [...names];
    const unknown = selected.find((name) => !names.has(name));
    if (unknown) return odataError(400, '/IWBEP/CM_MGW_RT/021', `Property ${unknown} not found`);
    const numeric = (name: string) => {
      const value = request.query.get(name);
      return value === null ? undefined : /^\d{1,9}$/.test(value) ? Number(value) : NaN;
    };
    const [top, skip, skiptoken] = [numeric('$top'), numeric('$skip'), numeric('$skiptoken')];
    if ([top, skip, skiptoken].some((value) => Number.isNaN(value)))
      return odataError(400, '/IWBEP/CM_MGW_RT/022', 'Invalid $top, $skip or $skiptoken');
    const total = rows.length;
    const matched = rows.slice(skip ?? 0, top === undefined ? undefined : (skip ?? 0) + top);
    const offset = skiptoken ?? 0;
    const page = matched.slice(offset, offset + pageSize);
    const results = page.map((values) => ({
      __metadata: {
        id: `${baseUrl}${ODATA_ROOT}/${set.service}/${set.entitySet}('${String(values[set.key])}')`,
        uri: `${baseUrl}${ODATA_ROOT}/${set.service}/${set.entitySet}('${String(values[set.key])}')`,
        type: set.entityType,
      },
      ...Object.fromEntries(
        set.properties
          .filter((property) => selected.includes(property.name))
          .map((property) => [property.name, jsonValue(property, values[property.name] ?? null)]),
      ),
    }));
    const d: Record<string, unknown> = { results };
    if (request.query.get('$inlinecount') === 'allpages') d.__count = String(total);
    if (offset + pageSize < matched.length) {
      const next = new URLSearchParams(request.query);
      next.set('$skiptoken', String(offset + pageSize));
      d.__next = `${baseUrl}${ODATA_ROOT}/${set.service}/${set.entitySet}?${next.toString()}`;
    }
    return { status: 200, headers: { dataserviceversion: '2.0' }, body: { d } };
  }

  function handle(request: EmulatorRequest): EmulatorResponse {
    const throttled = storm.intercept();
    if (throttled) return throttled;
    const username = authenticate(request);
    if (!username) return { status: 401, headers: { 'www-authenticate': REALM }, body: '<html>Logon failed</html>' };
    const set = entitySetOf(request.params.service!, request.params.entity!);
    if (!set) return odataError(404, '/IWFND/MED/170', 'No service found for the requested name');
    if (!users.get(username)!.scenarios.has(set.scenario))
      return odataError(
        403,
        '/IWFND/CM_CONSUMER/101',
        `No authorization: communication scenario ${set.scenario} is not assigned`,
      );
    if (WRITE_METHODS.has(request.method)) {
      const token = request.headers['x-csrf-token'];
      if (typeof token !== 'string' || !csrfTokens.has(token))
        return odataError(403, '/IWFND/CM_COS/065', 'CSRF token validation failed', { 'x-csrf-token': 'Required' });
      return odataError(501, '/IWFND/CM_MGW/004', 'Writes are not emulated');
    }
    const fetched = request.headers['x-csrf-token'] === 'Fetch' ? crypto.randomBytes(18).toString('base64') : undefined;
    if (fetched) csrfTokens.add(fetched);
    const answer = query(set, request);
    return fetched ? { ...answer, headers: { ...answer.headers, 'x-csrf-token': fetched } } : answer;
  }

  const router = new EmulatorRouter();
  for (const method of ['GET', 'HEAD', ...WRITE_METHODS]) router.on(method, `${ODATA_ROOT}/:service/:entity`, handle);
  const server = await startEmulatorServer({ router });
  baseUrl = server.url;

  function add(set: EntitySetDef, id: string, values: Values): string {
    data.get(set)!.set(id, {
      values: { ...Object.fromEntries(set.properties.map((p) => [p.name, null])), ...values, [set.key]: id },
    });
    return id;
  }

  const control: SapEmulatorControl = {
    clock,
    requests: server.requests,
    addUser(scenarios = ['SAP_COM_0053', 'SAP_COM_0106']) {
      const user = { username: `TP_COMM_${users.size + 1}`, password: crypto.randomBytes(18).toString('base64url') };
      users.set(user.username, { password: user.password, scenarios: new Set(scenarios), locked: false });
      return user;
    },
    lockUser(username) {
      users.get(username)!.locked = true;
    },
    addPurchaseOrder(fields = {}) {
      sequence = { ...sequence, po: sequence.po + 1 };
      return add(PURCHASE_ORDERS, String(sequence.po), {
        CompanyCode: '1010',
        PurchaseOrderType: 'NB',
        PurchasingOrganization: '1010',
        PurchasingGroup: '001',
        Supplier: '17300001',
        DocumentCurrency: 'EUR',
        PurchaseOrderDate: today(),
        PurchasingProcessingStatus: '02',
        PurchasingDocumentDeletionCode: '',
        CreatedByUser: 'CB9980000001',
        CreationDate: today(),
        LastChangeDateTime: clock.now(),
        ...fields,
      });
    },
    addDelivery(fields = {}) {
      sequence = { ...sequence, delivery: sequence.delivery + 1 };
      return add(DELIVERIES, String(sequence.delivery), {
        DeliveryDocumentType: 'LF',
        ShippingPoint: '1010',
        SalesOrganization: '1010',
        ShipToParty: '10100001',
        SoldToParty: '10100001',
        DeliveryDate: today() + 7 * DAY_MS,
        PlannedGoodsIssueDate: today() + 6 * DAY_MS,
        OverallGoodsMovementStatus: 'A',
        OverallSDProcessStatus: 'A',
        CreatedByUser: 'CB9980000001',
        LastChangedByUser: '',
        CreationDate: today(),
        LastChangeDate: null,
        ...fields,
      });
    },
    change(id, fields) {
      const { set, record } = locate(id);
      const stampField: Values =
        set === PURCHASE_ORDERS ? { LastChangeDateTime: clock.now() } : { LastChangeDate: today() };
      record.values = { ...record.values, ...fields, ...stampField };
    },
    flagDeleted(purchaseOrder) {
      control.change(purchaseOrder, { PurchasingDocumentDeletionCode: 'L' });
    },
    remove(id) {
      const { set } = locate(id);
      data.get(set)!.delete(id);
    },
    throttle(count, retryAfterSeconds) {
      storm.start(
        count,
        tooManyRequests(
          retryAfterSeconds,
          {},
          { error: { code: 'TOO_MANY_REQUESTS', message: { lang: 'en', value: 'Rate limit exceeded' } } },
        ),
      );
    },
    timeOut(count) {
      storm.start(count, { status: 504, body: '<html>Gateway Timeout</html>' });
    },
    writes: () => server.requests.filter((request) => WRITE_METHODS.has(request.method)),
  };
  return { url: server.url, stop: () => server.stop(), control };
}
