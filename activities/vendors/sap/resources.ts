/**
 * The two entity sets as sync resources: the query of a round (changes since the watermark), the
 * query of the id sweep (keys only), how a record's change time, identity and deletion flag read, and
 * the authorization the service needs (named in a 403).
 */
import { asc, or } from '@sap-cloud-sdk/odata-v2';
import type { SapResource } from './descriptor';
import type { PageRequest } from './client';
import { outbDeliveryHeaderApi, parseODataDate, purchaseOrderApi } from './odata';

type Json = Record<string, unknown>;

const MINUTE_MS = 60_000;
/** Keys per id-sweep page: a key-only page of this size stays small; a server may cap it lower. */
const ID_PAGE_SIZE = 1000;
const DAY_MS = 24 * 60 * MINUTE_MS;

export interface SapResourceSpec {
  /** The entity's key property: the record's external id. */
  key: string;
  /** Re-read window below the watermark (commit lag; date-only filters and the tenant's time zone). */
  overlapMs: number;
  /** What the communication user needs to read it, as the customer's admin grants it (no article: it is named alone). */
  permission: string;
  /** A page of changed records (`sinceMs` undefined: the full listing). */
  changes(sinceMs: number | undefined): PageRequest;
  /**
   * A page of the ids that exist now, in key order after `afterKey` (the id sweep). Keyset paging, not
   * `$skiptoken`: SAP's skiptokens are offsets, and a record deleted during the sweep would shift the
   * next page and hide an id that still exists, which the sweep would then delete.
   */
  ids(afterKey: string | undefined): PageRequest;
  /** Epoch ms of the record's last change. */
  changedMs(record: Json): number;
  /** SAP's deletion flag: the record is deleted for us (never cached, removed if it was). */
  flaggedDeleted(record: Json): boolean;
}

const po = purchaseOrderApi.schema;
const delivery = outbDeliveryHeaderApi.schema;

/** `PurchasingDocumentDeletionCode`: 'L' marks a purchasing document deleted (it stays until archived). */
const PO_DELETED = 'L';

const purchaseOrders: SapResourceSpec = {
  key: 'PurchaseOrder',
  // LastChangeDateTime is a precise timestamp: a few minutes cover the commit lag.
  overlapMs: 10 * MINUTE_MS,
  permission: 'communication scenario SAP_COM_0053 (Purchase Order Integration) for API_PURCHASEORDER_PROCESS_SRV',
  changes(sinceMs) {
    const request = purchaseOrderApi
      .requestBuilder()
      .getAll()
      .select(
        po.PURCHASE_ORDER,
        po.COMPANY_CODE,
        po.PURCHASE_ORDER_TYPE,
        po.PURCHASING_ORGANIZATION,
        po.PURCHASING_GROUP,
        po.SUPPLIER,
        po.DOCUMENT_CURRENCY,
        po.PURCHASE_ORDER_DATE,
        po.PURCHASING_PROCESSING_STATUS,
        po.PURCHASING_DOCUMENT_DELETION_CODE,
        po.CREATION_DATE,
        po.LAST_CHANGE_DATE_TIME,
      );
    return sinceMs === undefined ? request : request.filter(po.LAST_CHANGE_DATE_TIME.greaterOrEqual(new Date(sinceMs)));
  },
  ids(afterKey) {
    const request = purchaseOrderApi
      .requestBuilder()
      .getAll()
      .select(po.PURCHASE_ORDER, po.PURCHASING_DOCUMENT_DELETION_CODE)
      .orderBy(asc(po.PURCHASE_ORDER))
      .top(ID_PAGE_SIZE);
    return afterKey === undefined ? request : request.filter(po.PURCHASE_ORDER.greaterThan(afterKey));
  },
  changedMs: (record) => parseODataDate(record.LastChangeDateTime) ?? parseODataDate(record.CreationDate) ?? 0,
  flaggedDeleted: (record) => record.PurchasingDocumentDeletionCode === PO_DELETED,
};

/** Midnight (UTC) of the day of `ms`: `Edm.DateTime` dates carry no time. */
const dayOf = (ms: number) => new Date(Math.floor(ms / DAY_MS) * DAY_MS);

const deliveries: SapResourceSpec = {
  key: 'DeliveryDocument',
  // The header has dates only (LastChangeDate, null until a change; CreationDate), in the tenant's
  // time zone: two days re-read cover both.
  overlapMs: 2 * DAY_MS,
  permission: 'communication scenario for API_OUTBOUND_DELIVERY_SRV (Outbound Delivery Integration, SAP_COM_0106)',
  changes(sinceMs) {
    const request = outbDeliveryHeaderApi
      .requestBuilder()
      .getAll()
      .select(
        delivery.DELIVERY_DOCUMENT,
        delivery.DELIVERY_DOCUMENT_TYPE,
        delivery.SHIPPING_POINT,
        delivery.SALES_ORGANIZATION,
        delivery.SHIP_TO_PARTY,
        delivery.SOLD_TO_PARTY,
        delivery.DELIVERY_DATE,
        delivery.PLANNED_GOODS_ISSUE_DATE,
        delivery.OVERALL_GOODS_MOVEMENT_STATUS,
        delivery.OVERALL_SD_PROCESS_STATUS,
        delivery.CREATION_DATE,
        delivery.LAST_CHANGE_DATE,
      );
    if (sinceMs === undefined) return request;
    const since = dayOf(sinceMs);
    return request.filter(
      or(delivery.LAST_CHANGE_DATE.greaterOrEqual(since), delivery.CREATION_DATE.greaterOrEqual(since)),
    );
  },
  ids(afterKey) {
    const request = outbDeliveryHeaderApi
      .requestBuilder()
      .getAll()
      .select(delivery.DELIVERY_DOCUMENT)
      .orderBy(asc(delivery.DELIVERY_DOCUMENT))
      .top(ID_PAGE_SIZE);
    return afterKey === undefined ? request : request.filter(delivery.DELIVERY_DOCUMENT.greaterThan(afterKey));
  },
  changedMs: (record) => Math.max(parseODataDate(record.LastChangeDate) ?? 0, parseODataDate(record.CreationDate) ?? 0),
  // Deliveries carry no deletion flag: a deleted delivery is gone, found by the id sweep.
  flaggedDeleted: () => false,
};

export const SAP_RESOURCE_SPECS: Record<SapResource, SapResourceSpec> = {
  'purchase-orders': purchaseOrders,
  deliveries,
};
