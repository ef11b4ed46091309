/** Autodesk Platform Services rows (Construction Cloud, Docs, Tandem): planned, no connector yet. */
import type { VendorDescriptor } from '../types';
import { PLANNED_ROW_BUDGETS, type PlannedManifest } from '../manifest';

/** What the three rows share: APS 3-legged OAuth with PKCE, signed webhooks, a revoke endpoint. */
const aps = {
  ...PLANNED_ROW_BUDGETS,
  authKind: 'oauth2-pkce',
  pkce: true,
  syncResources: [],
  syncMode: 'on-demand',
  webhook: { scheme: 'autodesk-hmac-sha1' },
  revocation: { kind: 'revoke-endpoint', note: 'APS revokes the tokens at /authentication/v2/revoke.' },
} as const satisfies Partial<VendorDescriptor>;

// The matrix cells end with "(per project)", "(per hub)", "(per facility)": qualifiers, not scopes.
export const autodeskManifest: PlannedManifest = {
  family: 'autodesk',
  status: 'planned',
  rows: [
    {
      ...aps,
      id: 'autodesk-acc',
      displayName: 'Autodesk Construction Cloud',
      scopes: { required: ['data:read', 'data:write'], optional: [] },
      customerControl: { kind: 'projects', description: 'Project-scoped OAuth; admin disconnect.' },
      dataIn: ['bim', 'drawings', 'sheets', 'issues'],
      dataOut: ['issues', 'rfis'],
    },
    {
      ...aps,
      id: 'autodesk-docs',
      displayName: 'Autodesk Docs',
      scopes: { required: ['data:read', 'account:read'], optional: [] },
      customerControl: { kind: 'hubs', description: 'Hub/project-scoped OAuth; admin disconnect.' },
      dataIn: ['folder-tree', 'drawings', 'sheets'],
      dataOut: ['updated-metadata', 'transmittals'],
    },
    {
      ...aps,
      id: 'autodesk-tandem',
      displayName: 'Autodesk Tandem',
      scopes: { required: ['data:read', 'data:write'], optional: [] },
      customerControl: { kind: 'facilities', description: 'Facility-scoped OAuth; admin disconnect.' },
      dataIn: ['facility-model', 'asset-metadata', 'parameters'],
      dataOut: ['twin-sync-updates', 'asset-status'],
    },
  ],
};
