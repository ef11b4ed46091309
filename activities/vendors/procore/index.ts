/** The Procore row of the vendor matrix: planned, no connector yet. */
import { PLANNED_ROW_BUDGETS, type PlannedManifest } from '../manifest';

export const procoreManifest: PlannedManifest = {
  family: 'procore',
  status: 'planned',
  rows: [
    {
      ...PLANNED_ROW_BUDGETS,
      id: 'procore',
      displayName: 'Procore',
      // The matrix lists a read permission in prose, not OAuth scope names: kept as written.
      scopes: { required: ['Read project, drawings, RFIs, daily logs'], optional: [] },
      // Procore documents the authorization-code grant without PKCE.
      authKind: 'oauth2-state',
      pkce: false,
      customerControl: { kind: 'projects', description: 'Project-scoped OAuth; admin disconnect.' },
      dataIn: ['projects', 'drawings', 'rfis', 'daily-logs'],
      dataOut: ['status-update'],
      syncResources: [],
      syncMode: 'webhook-and-since',
      webhook: { scheme: 'procore-destination-header' },
      revocation: { kind: 'revoke-endpoint', note: 'Procore revokes access and refresh token at /oauth/revoke.' },
    },
  ],
};
