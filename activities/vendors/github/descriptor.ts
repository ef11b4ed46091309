/** The GitHub row of the vendor matrix, as data. */
import type { VendorDescriptor } from '../types';

export const GITHUB_SCOPES = ['repo:read', 'issues:write'] as const;

/**
 * The matrix's scope labels as GitHub App permissions, requested on every installation token.
 * `issues:write` is the write grant for the row's three data-out flows: issues and comments
 * (`issues: write`) and status checks (`statuses: write`); `repo:read` reads repository metadata and
 * releases (`metadata`, `contents`).
 */
export const GITHUB_PERMISSIONS_BY_SCOPE: Record<(typeof GITHUB_SCOPES)[number], Record<string, 'read' | 'write'>> = {
  'repo:read': { metadata: 'read', contents: 'read' },
  'issues:write': { issues: 'write', statuses: 'write' },
};

export const githubDescriptor: VendorDescriptor = {
  id: 'github',
  displayName: 'GitHub',
  scopes: { required: GITHUB_SCOPES, optional: [] },
  authKind: 'github-app',
  // PKCE S256 for GitHub App user authorization (supported since 2025-07).
  pkce: true,
  customerControl: {
    kind: 'repos',
    description:
      'Per-repo install of the GitHub App (the installation’s selected repositories, optionally narrowed by the admin); admin disconnect.',
  },
  dataIn: ['issues', 'releases', 'repositories'],
  dataOut: ['create-issue', 'create-comment', 'create-status-check'],
  syncResources: ['repositories', 'issues', 'releases'],
  syncMode: 'webhook-and-since',
  rateLimit: {
    // GitHub allows an installation 5,000/h (≈ 83/min); we keep a quarter of it as headroom.
    requestsPerMinute: 60,
    // GitHub counts installation tokens per installation, whichever repository or workspace.
    countedPer: ['installationId'],
  },
  // App-level webhook (one per GitHub App, configured in its settings): no per-integration subscription to renew.
  webhook: { scheme: 'github-hmac-sha256', secretHolder: 'app' },
  revocation: {
    kind: 'uninstall',
    note: 'Disconnect revokes the installation token (DELETE /installation/token) and uninstalls the app (DELETE /app/installations/{id}) only if this integration holds the installation’s binding (one installation is bound to one workspace, so no other integration needs it); an installation it did not bind is left installed. Later calls with the token get 401.',
  },
  // Issues and releases change slowly and arrive by webhook: one day keeps the cache fresh and small (T3).
  cacheTtlMs: 24 * 60 * 60_000,
};

export const githubDescriptors: readonly VendorDescriptor[] = [githubDescriptor];

/**
 * The permissions an installation token is narrowed to: exactly those of the given scopes (T1), by
 * default the descriptor's; after a restriction, the integration's consented ones (T17).
 */
export function githubRequestedPermissions(
  scopes: readonly string[] = GITHUB_SCOPES,
): Record<string, 'read' | 'write'> {
  const known = GITHUB_SCOPES.filter((scope) => scopes.includes(scope));
  return Object.assign({}, ...known.map((scope) => GITHUB_PERMISSIONS_BY_SCOPE[scope]));
}
