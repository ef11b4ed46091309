/** The SAP row of the vendor matrix: planned, no connector yet. */
import { PLANNED_ROW_BUDGETS, type PlannedManifest } from '../manifest';

export const sapManifest: PlannedManifest = {
  family: 'sap',
  status: 'planned',
  rows: [
    {
      ...PLANNED_ROW_BUDGETS,
      id: 'sap',
      displayName: 'SAP',
      // The matrix lists a read permission in prose, not scope names: kept as written.
      scopes: { required: ['Read purchase orders, deliveries'], optional: [] },
      // A service account in the customer's tenant, stored encrypted (T6).
      authKind: 'service-account',
      pkce: false,
      customerControl: { kind: 'tenant', description: 'Service account in Customer tenant.' },
      dataIn: ['purchase-orders', 'deliveries'],
      dataOut: [],
      syncResources: [],
      syncMode: 'scheduled-poll',
      // The OData services send no webhooks: scheduled sync. Data out: none by default.
      webhook: { scheme: 'none' },
      revocation: { kind: 'none', note: 'The customer deletes the service account in their tenant.' },
    },
  ],
};
