/**
 * Oracle ERP Cloud's `fscmRestApi` as we use it: two collection resources read with `fields`,
 * `onlyData=true`, `orderBy`, `offset`/`limit` (at most 500 rows a page) and a `q` filter on
 * `LastUpdateDate` in the REST framework's syntax (`q=LastUpdateDate>='…';LastUpdateDate<'…'`,
 * conditions joined by `;`). Answers are `{ items, count, hasMore, limit, offset }`.
 */
import type { RestClient } from '../shared/restClient';
import type { OracleErpResource } from './descriptor';

export const FSCM_BASE_PATH = '/fscmRestApi/resources/11.13.18.05';
/** Oracle's maximum `limit` for these resources. */
export const MAX_PAGE_SIZE = 500;

export interface PurchaseOrder {
  POHeaderId: number;
  OrderNumber?: string;
  Supplier?: string;
  SupplierId?: number;
  Status?: string;
  ProcurementBU?: string;
  Total?: number;
  CurrencyCode?: string;
  LastUpdateDate: string;
}

export interface Supplier {
  SupplierId: number;
  Supplier?: string;
  SupplierNumber?: string;
  Status?: string;
  LastUpdateDate: string;
}

/** One page of a collection, as Oracle answers it. */
export interface CollectionPage<T> {
  items: T[];
  count: number;
  hasMore: boolean;
  limit: number;
  offset: number;
}

interface ResourceSpec {
  path: string;
  idField: string;
  /** The fields we keep: business facts only, no person (buyers and contacts stay at Oracle). */
  fields: readonly string[];
  /**
   * The duty role a 403 means is missing (Oracle's answer names none). From Oracle's security
   * reference for Procurement; a release may name it differently.
   */
  dutyRole: string;
}

export const RESOURCES: Record<OracleErpResource, ResourceSpec> = {
  'purchase-orders': {
    path: `${FSCM_BASE_PATH}/purchaseOrders`,
    idField: 'POHeaderId',
    fields: [
      'POHeaderId',
      'OrderNumber',
      'Supplier',
      'SupplierId',
      'Status',
      'ProcurementBU',
      'Total',
      'CurrencyCode',
      'LastUpdateDate',
    ],
    dutyRole: 'Procurement REST Service Duty',
  },
  suppliers: {
    path: `${FSCM_BASE_PATH}/suppliers`,
    idField: 'SupplierId',
    fields: ['SupplierId', 'Supplier', 'SupplierNumber', 'Status', 'LastUpdateDate'],
    dutyRole: 'Supplier Profile Inquiry Duty',
  },
};

/** Oracle's timestamp form in `q` and in answers: ISO 8601 with milliseconds and an offset. */
export function oracleTimestamp(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

/** The `q` of a `LastUpdateDate` window: from (inclusive) and to (exclusive), each optional. */
export function lastUpdateWindow(fromMs: number | undefined, toMs: number | undefined): string | undefined {
  const conditions = [
    fromMs === undefined ? undefined : `LastUpdateDate>='${oracleTimestamp(fromMs)}'`,
    toMs === undefined ? undefined : `LastUpdateDate<'${oracleTimestamp(toMs)}'`,
  ].filter((condition): condition is string => condition !== undefined);
  return conditions.length > 0 ? conditions.join(';') : undefined;
}

export interface OracleErpApi {
  list<T>(
    resource: OracleErpResource,
    page: { offset: number; limit: number; q?: string; fields?: readonly string[]; orderBy?: string },
  ): Promise<CollectionPage<T>>;
}

/** The API over the shared REST client (signed in as the service account). */
export function oracleErpApi(rest: RestClient): OracleErpApi {
  return {
    list(resource, page) {
      const spec = RESOURCES[resource];
      return rest.get(spec.path, {
        onlyData: true,
        fields: (page.fields ?? spec.fields).join(','),
        orderBy: page.orderBy ?? `LastUpdateDate:asc,${spec.idField}:asc`,
        offset: page.offset,
        limit: page.limit,
        q: page.q,
      });
    },
  };
}
