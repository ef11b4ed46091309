/** The Oracle Primavera P6 row of the vendor matrix: planned, no connector yet. */
import { PLANNED_ROW_BUDGETS, type PlannedManifest } from '../manifest';

export const primaveraManifest: PlannedManifest = {
  family: 'primavera-p6',
  status: 'planned',
  rows: [
    {
      ...PLANNED_ROW_BUDGETS,
      id: 'primavera-p6',
      displayName: 'Oracle Primavera P6',
      // The matrix lists a read permission in prose, not scope names: kept as written.
      scopes: { required: ['Read schedules, activities, baselines'], optional: [] },
      // A service account in the customer's tenant, stored encrypted (T6).
      authKind: 'service-account',
      pkce: false,
      customerControl: { kind: 'tenant', description: 'Service account in Customer tenant.' },
      dataIn: ['schedules', 'activities', 'baselines'],
      dataOut: ['status-update'],
      syncResources: [],
      syncMode: 'scheduled-poll',
      // P6 EPPM sends no webhooks: scheduled sync.
      webhook: { scheme: 'none' },
      revocation: { kind: 'none', note: 'The customer deletes the service account in their tenant.' },
    },
  ],
};
