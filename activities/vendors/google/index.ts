/** Google rows of the vendor matrix (Google Drive, Google Workspace sign-in): planned, no connector yet. */
import { PLANNED_ROW_BUDGETS, type PlannedManifest } from '../manifest';

export const googleManifest: PlannedManifest = {
  family: 'google',
  status: 'planned',
  rows: [
    {
      ...PLANNED_ROW_BUDGETS,
      id: 'google-drive',
      displayName: 'Google Drive',
      // The matrix cell reads "drive.file (per-file access)": the qualifier is not a scope.
      scopes: { required: ['drive.file'], optional: [] },
      authKind: 'oauth2-pkce',
      pkce: true,
      customerControl: { kind: 'files', description: 'Per-file consent via Picker API; no broad scope.' },
      dataIn: ['user-selected-files'],
      dataOut: ['picked-folder-export'],
      syncResources: [],
      syncMode: 'on-demand',
      webhook: { scheme: 'google-channel-token' },
      revocation: { kind: 'revoke-endpoint', note: 'Google revokes the grant at oauth2.googleapis.com/revoke.' },
    },
    {
      ...PLANNED_ROW_BUDGETS,
      id: 'google-workspace',
      displayName: 'Google Workspace',
      scopes: { required: ['openid', 'profile', 'email'], optional: [] },
      authKind: 'federated-identity',
      pkce: true,
      customerControl: { kind: 'tenant', description: 'Customer-managed IdP.' },
      dataIn: ['authenticated-identity'],
      // Identity providers receive nothing (T19).
      dataOut: [],
      syncResources: [],
      syncMode: 'none',
      webhook: { scheme: 'none' },
      revocation: { kind: 'none', note: 'Federated sign-in keeps no vendor credential: nothing to revoke.' },
    },
  ],
};
