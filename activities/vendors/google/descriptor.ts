/**
 * The two Google rows of the vendor matrix (`docs/vendor-matrix.md`), scopes exactly as listed (T1).
 * The matrix writes Google's scopes in their short form; `GOOGLE_SCOPE_URIS` gives what the
 * authorization server takes and answers (`drive.file` is `https://www.googleapis.com/auth/drive.file`).
 */
import type { VendorDescriptor, VendorId } from '../types';

export type GoogleVendorId = Extract<VendorId, 'google-drive' | 'google-workspace'>;

const MINUTE_MS = 60_000;
/** Drive's `changes.watch` channels live at most one week (Drive push notifications guide). */
export const MAX_CHANNEL_LIFETIME_MS = 7 * 24 * 60 * MINUTE_MS;
/** Drive's default quota is 12,000 queries per minute per user: we allow ourselves a fraction of it. */
const DRIVE_REQUESTS_PER_MINUTE = 300;
const CACHE_TTL_MS = 24 * 60 * MINUTE_MS;

const REVOCATION_NOTE =
  'Disconnect revokes the grant at oauth2.googleapis.com/revoke (access and refresh token alike) and stops the push channels. ' +
  'Google offers no per-file revocation of a Picker grant: dropping a file from the picks stops every request for it, ' +
  'and the user removes the app’s access to picked files in their Google Account (Third-party connections).';

export const googleDescriptors: Record<GoogleVendorId, VendorDescriptor> = {
  'google-drive': {
    id: 'google-drive',
    displayName: 'Google Drive',
    // The matrix cell reads "drive.file (per-file access)": the qualifier is not a scope.
    scopes: { required: ['drive.file'], optional: [] },
    authKind: 'oauth2-pkce',
    pkce: true,
    customerControl: { kind: 'files', description: 'Per-file consent via Picker API; no broad scope.' },
    dataIn: ['user-selected-files'],
    dataOut: ['picked-folder-export'],
    // One resource: the picked files' metadata, then their changes from Drive's changes feed.
    syncResources: ['picked-files'],
    syncMode: 'on-demand',
    rateLimit: { requestsPerMinute: DRIVE_REQUESTS_PER_MINUTE },
    webhook: { scheme: 'google-channel-token', maxLifetimeMs: MAX_CHANNEL_LIFETIME_MS },
    revocation: { kind: 'revoke-endpoint', note: REVOCATION_NOTE },
    cacheTtlMs: CACHE_TTL_MS,
  },
  'google-workspace': {
    id: 'google-workspace',
    displayName: 'Google Workspace',
    scopes: { required: ['openid', 'profile', 'email'], optional: [] },
    authKind: 'federated-identity',
    pkce: true,
    customerControl: {
      kind: 'tenant',
      description: 'Customer-managed IdP; sign-in limited to the customer’s Workspace domain (hd).',
    },
    dataIn: ['authenticated-identity'],
    // Identity providers receive nothing (T19).
    dataOut: [],
    syncResources: [],
    syncMode: 'none',
    rateLimit: { requestsPerMinute: 60 },
    webhook: { scheme: 'none' },
    revocation: {
      kind: 'revoke-endpoint',
      note: 'Disconnect revokes the sign-in grant at oauth2.googleapis.com/revoke; only the opaque subject id was kept.',
    },
    cacheTtlMs: CACHE_TTL_MS,
  },
};

export const GOOGLE_VENDOR_IDS = Object.keys(googleDescriptors) as GoogleVendorId[];

export function isGoogleVendor(vendor: VendorId): vendor is GoogleVendorId {
  return vendor in googleDescriptors;
}

/** The matrix's short scope names and the identifiers Google's authorization server uses for them. */
export const GOOGLE_SCOPE_URIS: Readonly<Record<string, string>> = {
  'drive.file': 'https://www.googleapis.com/auth/drive.file',
  openid: 'openid',
  profile: 'https://www.googleapis.com/auth/userinfo.profile',
  email: 'https://www.googleapis.com/auth/userinfo.email',
};

/** Google answers `profile`/`email` with their userinfo URIs: back to the matrix's names (unknown ones kept as they are). */
export function matrixScopeOf(granted: string): string {
  if (granted === 'profile' || granted === 'email') return granted;
  return Object.entries(GOOGLE_SCOPE_URIS).find(([, uri]) => uri === granted)?.[0] ?? granted;
}
