/**
 * The two OData V2 entity sets the SAP row reads, hand-declared with the SAP Cloud SDK's entity and
 * API builders (what `@sap-cloud-sdk/generator` emits, cut down to the properties we keep, T14):
 * `A_PurchaseOrder` of `API_PURCHASEORDER_PROCESS_SRV` (communication scenario SAP_COM_0053) and
 * `A_OutbDeliveryHeader` of `API_OUTBOUND_DELIVERY_SRV;v=0002`. Property names are SAP's, from the
 * services' published metadata. No user names (`CreatedByUser`, `LastChangedByUser`) are selected.
 *
 * Dates are plain `Date`s (custom de-serializers) so no date library leaks into our code; V2 puts them
 * in URIs as `datetime'…'` (Edm.DateTime, no zone) and `datetimeoffset'…Z'`.
 */
import {
  AllFields,
  CustomField,
  Entity,
  EntityBuilderType,
  EntityApi,
  FieldBuilder,
  GetAllRequestBuilder,
  RequestBuilder,
  entityBuilder,
  mergeDefaultDeSerializersWith,
} from '@sap-cloud-sdk/odata-v2';

/** `/Date(1711324800000)/` or `/Date(1711324800000+0000)/`, OData V2's JSON dates, as epoch ms. */
export function parseODataDate(value: unknown): number | undefined {
  const match = typeof value === 'string' ? /^\/Date\((-?\d+)(?:[+-]\d{4})?\)\/$/.exec(value) : null;
  return match ? Number(match[1]) : undefined;
}

const odataDate = (value: Date) => `/Date(${value.getTime()})/`;
const fromODataDate = (value: unknown) => new Date(parseODataDate(value) ?? NaN);

export const sapDeSerializers = mergeDefaultDeSerializersWith({
  'Edm.DateTime': {
    deserialize: fromODataDate,
    serialize: odataDate,
    serializeToUri: (value: Date) => `datetime'${value.toISOString().replace(/Z$/, '')}'`,
  },
  'Edm.DateTimeOffset': {
    deserialize: fromODataDate,
    serialize: odataDate,
    serializeToUri: (value: Date) => `datetimeoffset'${value.toISOString()}'`,
  },
});
export type SapDeSerializers = typeof sapDeSerializers;

export class PurchaseOrder extends Entity {
  static override _entityName = 'A_PurchaseOrder';
  static override _defaultBasePath = '/sap/opu/odata/sap/API_PURCHASEORDER_PROCESS_SRV';
  static _keys = ['PurchaseOrder'];
}

export class OutbDeliveryHeader extends Entity {
  static override _entityName = 'A_OutbDeliveryHeader';
  static override _defaultBasePath = '/sap/opu/odata/sap/API_OUTBOUND_DELIVERY_SRV;v=0002';
  static _keys = ['DeliveryDocument'];
}

/** Read-only request builders: `getAll` is the only request the row makes (T19). */
class ReadRequestBuilder<EntityT extends Entity> extends RequestBuilder<EntityT, SapDeSerializers> {
  getAll(): GetAllRequestBuilder<EntityT, SapDeSerializers> {
    return new GetAllRequestBuilder(this.entityApi);
  }
}

/** An entity API as the generator writes it, for a hand-declared entity class. */
abstract class ReadOnlyEntityApi<EntityT extends Entity> implements EntityApi<EntityT, SapDeSerializers> {
  deSerializers = sapDeSerializers;
  abstract entityConstructor: EntityApi<EntityT, SapDeSerializers>['entityConstructor'];
  abstract schema: Record<string, unknown>;
  requestBuilder(): ReadRequestBuilder<EntityT> {
    return new ReadRequestBuilder<EntityT>(this);
  }
  entityBuilder(): EntityBuilderType<EntityT, SapDeSerializers> {
    return entityBuilder(this);
  }
  customField<NullableT extends boolean = false>(
    fieldName: string,
    isNullable: NullableT = false as NullableT,
  ): CustomField<EntityT, SapDeSerializers, NullableT> {
    return new CustomField(fieldName, this.entityConstructor, this.deSerializers, isNullable) as CustomField<
      EntityT,
      SapDeSerializers,
      NullableT
    >;
  }
}

export class PurchaseOrderApi extends ReadOnlyEntityApi<PurchaseOrder> {
  entityConstructor = PurchaseOrder;
  schema = (() => {
    const field = new FieldBuilder(PurchaseOrder, sapDeSerializers);
    return {
      PURCHASE_ORDER: field.buildEdmTypeField('PurchaseOrder', 'Edm.String', false),
      COMPANY_CODE: field.buildEdmTypeField('CompanyCode', 'Edm.String', true),
      PURCHASE_ORDER_TYPE: field.buildEdmTypeField('PurchaseOrderType', 'Edm.String', true),
      PURCHASING_ORGANIZATION: field.buildEdmTypeField('PurchasingOrganization', 'Edm.String', true),
      PURCHASING_GROUP: field.buildEdmTypeField('PurchasingGroup', 'Edm.String', true),
      SUPPLIER: field.buildEdmTypeField('Supplier', 'Edm.String', true),
      DOCUMENT_CURRENCY: field.buildEdmTypeField('DocumentCurrency', 'Edm.String', true),
      PURCHASE_ORDER_DATE: field.buildEdmTypeField('PurchaseOrderDate', 'Edm.DateTime', true),
      PURCHASING_PROCESSING_STATUS: field.buildEdmTypeField('PurchasingProcessingStatus', 'Edm.String', true),
      PURCHASING_DOCUMENT_DELETION_CODE: field.buildEdmTypeField('PurchasingDocumentDeletionCode', 'Edm.String', true),
      CREATION_DATE: field.buildEdmTypeField('CreationDate', 'Edm.DateTime', true),
      LAST_CHANGE_DATE_TIME: field.buildEdmTypeField('LastChangeDateTime', 'Edm.DateTimeOffset', true),
      ALL_FIELDS: new AllFields('*', PurchaseOrder),
    };
  })();
}

export class OutbDeliveryHeaderApi extends ReadOnlyEntityApi<OutbDeliveryHeader> {
  entityConstructor = OutbDeliveryHeader;
  schema = (() => {
    const field = new FieldBuilder(OutbDeliveryHeader, sapDeSerializers);
    return {
      DELIVERY_DOCUMENT: field.buildEdmTypeField('DeliveryDocument', 'Edm.String', false),
      DELIVERY_DOCUMENT_TYPE: field.buildEdmTypeField('DeliveryDocumentType', 'Edm.String', true),
      SHIPPING_POINT: field.buildEdmTypeField('ShippingPoint', 'Edm.String', true),
      SALES_ORGANIZATION: field.buildEdmTypeField('SalesOrganization', 'Edm.String', true),
      SHIP_TO_PARTY: field.buildEdmTypeField('ShipToParty', 'Edm.String', true),
      SOLD_TO_PARTY: field.buildEdmTypeField('SoldToParty', 'Edm.String', true),
      DELIVERY_DATE: field.buildEdmTypeField('DeliveryDate', 'Edm.DateTime', true),
      PLANNED_GOODS_ISSUE_DATE: field.buildEdmTypeField('PlannedGoodsIssueDate', 'Edm.DateTime', true),
      OVERALL_GOODS_MOVEMENT_STATUS: field.buildEdmTypeField('OverallGoodsMovementStatus', 'Edm.String', true),
      OVERALL_SD_PROCESS_STATUS: field.buildEdmTypeField('OverallSDProcessStatus', 'Edm.String', true),
      CREATION_DATE: field.buildEdmTypeField('CreationDate', 'Edm.DateTime', true),
      LAST_CHANGE_DATE: field.buildEdmTypeField('LastChangeDate', 'Edm.DateTime', true),
      ALL_FIELDS: new AllFields('*', OutbDeliveryHeader),
    };
  })();
}

export const purchaseOrderApi = new PurchaseOrderApi();
export const outbDeliveryHeaderApi = new OutbDeliveryHeaderApi();
