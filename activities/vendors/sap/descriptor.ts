/**
 * The SAP row of the vendor matrix: purchase orders and outbound deliveries read from the customer's
 * S/4HANA over OData V2 with a communication user of its own tenant (T6), by scheduled sync; nothing
 * goes out (T19).
 */
import type { VendorDescriptor } from '../types';

const MINUTE_MS = 60_000;

/** The matrix lists a read permission in prose, not scope names: kept as written (T1). */
export const SAP_MATRIX_SCOPE = 'Read purchase orders, deliveries';

/** The row's sync resources, one OData entity set each (`odata.ts`). */
export const SAP_RESOURCES = ['purchase-orders', 'deliveries'] as const;
export type SapResource = (typeof SAP_RESOURCES)[number];

export const sapDescriptor: VendorDescriptor = {
  id: 'sap',
  displayName: 'SAP',
  scopes: { required: [SAP_MATRIX_SCOPE], optional: [] },
  // A communication user of the customer's own tenant, stored encrypted (T6).
  authKind: 'service-account',
  pkce: false,
  customerControl: { kind: 'tenant', description: 'Service account in Customer tenant.' },
  dataIn: [...SAP_RESOURCES],
  dataOut: [],
  syncResources: [...SAP_RESOURCES],
  syncMode: 'scheduled-poll',
  rateLimit: {
    // SAP publishes no fixed OData quota for a communication user: the tenant throttles by fair use
    // (429 + Retry-After). One request a second per tenant stays far inside it and inside what an
    // on-premise Gateway's dialog work processes serve.
    requestsPerMinute: 60,
    // Throttling is per tenant (the API host of the credential), whichever integration calls.
    countedPer: ['host'],
  },
  // The OData services send no webhooks: scheduled sync.
  webhook: { scheme: 'none' },
  revocation: {
    kind: 'none',
    note: 'SAP has no revocation endpoint for a communication user: disconnect destroys the stored credential; the customer deletes the communication arrangement and user in its tenant.',
  },
  cacheTtlMs: 24 * 60 * MINUTE_MS,
};

export const sapDescriptors: readonly VendorDescriptor[] = [sapDescriptor];
