/**
 * Autodesk Tandem: planned, no connector yet. Its own family so the built APS family (Construction
 * Cloud, Docs) can be `built` while this row stays listed as planned (a manifest is built or planned
 * as a whole). Once built it joins the `autodesk` folder's platform (APS OAuth, REST client).
 */
import { PLANNED_ROW_BUDGETS, type PlannedManifest } from '../manifest';

// The matrix cell ends with "(per facility)": a qualifier, not a scope.
export const autodeskTandemManifest: PlannedManifest = {
  family: 'autodesk-tandem',
  status: 'planned',
  rows: [
    {
      ...PLANNED_ROW_BUDGETS,
      id: 'autodesk-tandem',
      displayName: 'Autodesk Tandem',
      authKind: 'oauth2-pkce',
      pkce: true,
      scopes: { required: ['data:read', 'data:write'], optional: [] },
      customerControl: { kind: 'facilities', description: 'Facility-scoped OAuth; admin disconnect.' },
      dataIn: ['facility-model', 'asset-metadata', 'parameters'],
      dataOut: ['twin-sync-updates', 'asset-status'],
      syncResources: [],
      syncMode: 'on-demand',
      webhook: { scheme: 'none' },
      revocation: { kind: 'revoke-endpoint', note: 'APS revokes the tokens at /authentication/v2/revoke.' },
    },
  ],
};
