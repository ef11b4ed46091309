/** The Oracle ERP Cloud row of the vendor matrix, as data. */
import { POLLED_SERVICE_ACCOUNT_ROW } from '../shared/serviceAccountRow';
import type { VendorDescriptor } from '../types';

/** The matrix lists a read permission in prose, not scope names: kept as written (one label). */
export const ORACLE_ERP_READ = 'Read purchase orders, suppliers';

/** The matrix's data in, each with its own cursor. */
export const ORACLE_ERP_SYNC_RESOURCES = ['purchase-orders', 'suppliers'] as const;
export type OracleErpResource = (typeof ORACLE_ERP_SYNC_RESOURCES)[number];

export const oracleErpDescriptor: VendorDescriptor = {
  id: 'oracle-erp',
  displayName: 'Oracle ERP Cloud',
  ...POLLED_SERVICE_ACCOUNT_ROW,
  scopes: { required: [ORACLE_ERP_READ], optional: [] },
  customerControl: { kind: 'tenant', description: 'Service account in Customer tenant.' },
  dataIn: ['purchase-orders', 'suppliers'],
  // Nothing goes out: every write is refused before any call (T19).
  dataOut: [],
  syncResources: ORACLE_ERP_SYNC_RESOURCES,
  rateLimit: {
    // Oracle publishes no per-minute number for the fscmRestApi resources (it throttles a pod under
    // load with 429 + Retry-After, which we honour): 60 a minute per pod is our own conservative
    // ceiling, about one request a second, well below what a pod's REST tier serves.
    requestsPerMinute: 60,
    // The limit is the pod's: every integration on one pod shares it (the credential's host).
    countedPer: ['host'],
  },
};

export const oracleErpDescriptors: readonly VendorDescriptor[] = [oracleErpDescriptor];
