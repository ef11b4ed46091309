/** The Jira row of the vendor matrix, as data. */
import type { VendorDescriptor } from '../types';

/** The matrix row's data scopes (T1): exactly these, never more. */
export const JIRA_SCOPES = ['read:jira-work', 'write:jira-work'] as const;

/**
 * Protocol scopes: `offline_access` makes Atlassian issue a refresh token; it grants no access to
 * any data, so T1's "exactly the matrix scopes" is about the data scopes above. The connector
 * requests data + protocol scopes and refuses a grant carrying anything else.
 */
export const JIRA_PROTOCOL_SCOPES = ['offline_access'] as const;

/** What the authorize URL asks for and what a grant may contain. */
export const JIRA_REQUESTED_SCOPES: readonly string[] = [...JIRA_SCOPES, ...JIRA_PROTOCOL_SCOPES];

export const jiraDescriptor: VendorDescriptor = {
  id: 'jira',
  displayName: 'Jira',
  // `offline_access` is OAuth plumbing for a refresh token, not a data scope: see JIRA_PROTOCOL_SCOPES.
  scopes: { required: JIRA_SCOPES, optional: [] },
  authKind: 'oauth2-state',
  // Atlassian 3LO documents no PKCE: state + exact redirect URI only.
  pkce: false,
  customerControl: {
    kind: 'projects',
    description: 'Per-workspace OAuth; project allow-list enforced on queries (JQL), writes and webhook jqlFilter.',
  },
  dataIn: ['issues'],
  dataOut: ['create-issue', 'create-comment'],
  syncResources: ['issues'],
  syncMode: 'webhook-and-since',
  rateLimit: {
    // Atlassian's quotas are points-based and unpublished per tenant; 100/min stays well inside burst limits.
    requestsPerMinute: 100,
    // Atlassian counts per app and site (cloud id).
    countedPer: ['cloudId'],
  },
  // OAuth-app dynamic webhooks expire after 30 days: renewed with PUT /rest/api/3/webhook/refresh.
  webhook: { scheme: 'jira-jwt', maxLifetimeMs: 30 * 24 * 60 * 60_000 },
  revocation: {
    kind: 'none',
    note: 'Atlassian offers no token revocation endpoint: disconnect deletes our tokens and webhooks; the user can remove the app under Connected apps.',
  },
  cacheTtlMs: 24 * 60 * 60_000,
};

export const jiraDescriptors: readonly VendorDescriptor[] = [jiraDescriptor];
