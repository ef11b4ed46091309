/**
 * Oracle ERP Cloud emulator: one pod's `fscmRestApi` for the two resources we read, following
 * Oracle's REST framework contract —
 * - `GET /fscmRestApi/resources/11.13.18.05/{purchaseOrders|suppliers}` with `offset`, `limit`
 *   (default 25, at most 500), `fields` (unknown field: 400), `onlyData=true` (else each item
 *   carries its `links`), `orderBy=Field:asc|desc,…` and `q` in the framework's syntax
 *   (`Attr<op>'value'`, conditions joined by `;`, ops `=`, `>`, `<`, `>=`, `<=`); answers
 *   `{ items, count, hasMore, limit, offset }`;
 * - basic auth of the pod's users (401 with a Basic challenge), 403 for a user without the duty
 *   role a resource needs, 429 with Retry-After on demand;
 * - Oracle cuts off a query that runs five minutes with a 504: here a filtered query matching more
 *   than `maxRowsPerQuery` rows answers 504 at once (the stand-in for a slow, wide query);
 * - deleted rows are simply gone (no tombstones).
 * Writes are not served (405), and every request is logged for the tests.
 */
import {
  EmulatorRouter,
  isResponse,
  type EmulatorClock,
  type EmulatorRequest,
  type EmulatorResponse,
  type LoggedRequest,
} from '../shared';
import {
  createServiceAccountApi,
  fieldCondition,
  type Comparison,
  type StoredObject,
} from '../shared/serviceAccountApi';

type Json = Record<string, unknown>;

export const FSCM = '/fscmRestApi/resources/11.13.18.05';
const DEFAULT_LIMIT = 25;
const MAX_LIMIT = 500;

export type ErpCollection = 'purchaseOrders' | 'suppliers';

/** Each resource's id, the duty role that reads it and the attributes of its schema (a subset of Oracle's). */
const COLLECTIONS: Record<ErpCollection, { idField: string; role: string; attributes: readonly string[] }> = {
  purchaseOrders: {
    idField: 'POHeaderId',
    role: 'Procurement REST Service Duty',
    attributes: [
      'POHeaderId',
      'OrderNumber',
      'Supplier',
      'SupplierId',
      'Status',
      'ProcurementBU',
      'Total',
      'CurrencyCode',
      'Buyer',
      'CreationDate',
      'LastUpdateDate',
    ],
  },
  suppliers: {
    idField: 'SupplierId',
    role: 'Supplier Profile Inquiry Duty',
    attributes: [
      'SupplierId',
      'Supplier',
      'SupplierNumber',
      'Status',
      'TaxOrganizationType',
      'CreationDate',
      'LastUpdateDate',
    ],
  },
};

export const ERP_DUTY_ROLES = Object.values(COLLECTIONS).map((collection) => collection.role);

export type ErpRow = StoredObject<'id'>;

export interface OracleErpEmulatorOptions {
  clock?: EmulatorClock;
  /** A filtered query matching more rows than this is cut off with a 504. */
  maxRowsPerQuery?: number;
}

export interface OracleErpEmulator {
  url: string;
  stop(): Promise<void>;
  control: {
    clock: EmulatorClock;
    requests: LoggedRequest[];
    addUser(username: string, password: string, roles?: readonly string[]): void;
    disableUser(username: string): void;
    add(collection: ErpCollection, fields: Json): ErpRow;
    update(collection: ErpCollection, id: number, fields: Json): ErpRow;
    remove(collection: ErpCollection, id: number): void;
    rows(collection: ErpCollection): ErpRow[];
    setMaxRowsPerQuery(rows: number): void;
    /** The next `count` API requests answer 429 with Retry-After. */
    throttle(count: number, retryAfterSeconds: number): void;
  };
}

export function oracleTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

const badRequest = (detail: string): EmulatorResponse => ({ status: 400, body: { title: 'Bad Request', detail } });

type Condition = (row: Json) => boolean;

const COMPARISONS: Record<string, Comparison> = { '=': 'eq', '>': 'gt', '<': 'lt', '>=': 'gte', '<=': 'lte' };

/** One `q` condition of the framework's v1 syntax: `Attr<op>value`, the value quoted or a number. */
function parseCondition(text: string): Condition | undefined {
  const match = /^(\w+)(>=|<=|>|<|=)(?:'([^']*)'|(-?\d+(?:\.\d+)?))$/.exec(text.trim());
  if (!match) return undefined;
  const [, attribute, op, quoted, numeric] = match;
  const asTime = quoted !== undefined && /^\d{4}-\d\d-\d\dT/.test(quoted) ? Date.parse(quoted) : NaN;
  if (quoted !== undefined && /^\d{4}-\d\d-\d\dT/.test(quoted) && Number.isNaN(asTime)) return undefined;
  const compareTime = (value: unknown) => {
    const ms = typeof value === 'string' ? Date.parse(value) : NaN;
    return Number.isNaN(ms) ? undefined : ms - asTime;
  };
  return fieldCondition(
    attribute!,
    COMPARISONS[op!]!,
    { quoted, numeric },
    Number.isNaN(asTime) ? undefined : compareTime,
  );
}

export async function startOracleErpEmulator(options: OracleErpEmulatorOptions = {}): Promise<OracleErpEmulator> {
  const api = createServiceAccountApi({
    clock: options.clock,
    realm: 'Oracle Fusion Applications',
    collections: Object.keys(COLLECTIONS) as ErpCollection[],
    idKey: 'id',
    firstId: 300_000_000_001,
  });
  const { users, objects } = api;
  let maxRowsPerQuery = options.maxRowsPerQuery ?? 10_000;

  /** A row as Oracle answers it: every attribute of the schema, null where unset. */
  const asItem = (collection: ErpCollection, row: ErpRow): Json => ({
    ...Object.fromEntries(
      COLLECTIONS[collection].attributes.map((attribute) => [attribute, row.fields[attribute] ?? null]),
    ),
    [COLLECTIONS[collection].idField]: row.id,
    LastUpdateDate: oracleTimestamp(row.lastUpdateMs),
  });

  function list(collection: ErpCollection, request: EmulatorRequest): EmulatorResponse {
    const signedIn = users.authenticate(request);
    if (isResponse(signedIn)) return signedIn;
    if (!signedIn.roles.has(COLLECTIONS[collection].role))
      return { status: 403, body: { title: 'Forbidden', detail: 'You do not have the necessary privileges.' } };
    const limitText = request.query.get('limit');
    const offsetText = request.query.get('offset');
    const limit = limitText === null ? DEFAULT_LIMIT : Number(limitText);
    const offset = offsetText === null ? 0 : Number(offsetText);
    if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0)
      return badRequest('limit and offset must be non-negative integers');
    const q = request.query.get('q');
    const conditions = q ? q.split(';').map(parseCondition) : [];
    if (conditions.some((condition) => condition === undefined)) return badRequest('invalid q expression');
    let items = objects
      .all(collection)
      .map((row) => asItem(collection, row))
      .filter((item) => conditions.every((condition) => condition!(item)));
    if (q && items.length > maxRowsPerQuery) return { status: 504, body: 'Gateway Time-out' };
    const orderBy = request.query.get('orderBy');
    if (orderBy) {
      const keys = orderBy.split(',').map((part) => part.split(':') as [string, string?]);
      items = items.sort((a, b) => {
        for (const [field, direction] of keys) {
          const x = a[field];
          const y = b[field];
          const diff = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
          if (diff !== 0) return direction === 'desc' ? -diff : diff;
        }
        return 0;
      });
    }
    const fieldsText = request.query.get('fields');
    const fields = fieldsText ? fieldsText.split(',') : undefined;
    if (fields?.some((field) => !COLLECTIONS[collection].attributes.includes(field)))
      return badRequest('unknown attribute in fields');
    const page = items.slice(offset, offset + Math.min(limit, MAX_LIMIT)).map((item) => {
      const picked = fields ? Object.fromEntries(fields.map((field) => [field, item[field]])) : item;
      return request.query.get('onlyData') === 'true'
        ? picked
        : {
            ...picked,
            links: [{ rel: 'self', href: `${FSCM}/${collection}/${String(item[COLLECTIONS[collection].idField])}` }],
          };
    });
    return {
      status: 200,
      headers: { 'content-type': 'application/vnd.oracle.adf.resourcecollection+json' },
      body: {
        items: page,
        count: page.length,
        hasMore: offset + page.length < items.length,
        limit: Math.min(limit, MAX_LIMIT),
        offset,
      },
    };
  }

  const router = new EmulatorRouter();
  for (const collection of Object.keys(COLLECTIONS) as ErpCollection[]) {
    router.on('GET', `${FSCM}/${collection}`, (request) => list(collection, request));
    api.refuseMethods(router, `${FSCM}/${collection}`, ['POST', 'PATCH', 'PUT', 'DELETE'], {
      status: 405,
      body: { title: 'Method Not Allowed' },
    });
  }
  const server = await api.start(router, '/fscmRestApi/');

  return {
    url: server.url,
    stop: server.stop,
    control: {
      ...api.control(server),
      addUser: (username, password, roles = ERP_DUTY_ROLES) => void users.add(username, password, roles),
      disableUser: (username) => {
        const account = users.get(username);
        if (account) account.disabled = true;
      },
      rows: objects.all,
      setMaxRowsPerQuery: (rows) => {
        maxRowsPerQuery = rows;
      },
    },
  };
}
