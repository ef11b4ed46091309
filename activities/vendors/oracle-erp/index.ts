/** The Oracle ERP Cloud row of the vendor matrix: planned, no connector yet. */
import { PLANNED_ROW_BUDGETS, type PlannedManifest } from '../manifest';

export const oracleErpManifest: PlannedManifest = {
  family: 'oracle-erp',
  status: 'planned',
  rows: [
    {
      ...PLANNED_ROW_BUDGETS,
      id: 'oracle-erp',
      displayName: 'Oracle ERP Cloud',
      // The matrix lists a read permission in prose, not scope names: kept as written.
      scopes: { required: ['Read purchase orders, suppliers'], optional: [] },
      // A service account in the customer's tenant, stored encrypted (T6).
      authKind: 'service-account',
      pkce: false,
      customerControl: { kind: 'tenant', description: 'Service account in Customer tenant.' },
      dataIn: ['purchase-orders', 'suppliers'],
      dataOut: [],
      syncResources: [],
      syncMode: 'scheduled-poll',
      // Oracle ERP Cloud REST sends no webhooks: scheduled sync. Data out: none by default.
      webhook: { scheme: 'none' },
      revocation: { kind: 'none', note: 'The customer deletes the service account in their tenant.' },
    },
  ],
};
