/** The Procore row of the vendor matrix, as data. */
import type { VendorDescriptor } from '../types';

/**
 * Procore has no OAuth scopes: a token acts with its user's tool permissions. The matrix names the
 * read permission in words, and data out ("status updates, only if enabled") is the optional
 * permission the admin grants at connect or withdraws later (T17): without it the audited path
 * refuses every write before it is made.
 */
export const PROCORE_READ = 'Read project, drawings, RFIs, daily logs';
export const PROCORE_STATUS_UPDATES = 'Write status updates';

/** The matrix's data resources, each with its own cursor; `projects` is read one selected project at a time. */
export const PROCORE_SYNC_RESOURCES = ['projects', 'drawings', 'rfis', 'daily-logs'] as const;
export type ProcoreResource = (typeof PROCORE_SYNC_RESOURCES)[number];

export const procoreDescriptor: VendorDescriptor = {
  id: 'procore',
  displayName: 'Procore',
  scopes: { required: [PROCORE_READ], optional: [PROCORE_STATUS_UPDATES] },
  // Procore documents the authorization-code grant without PKCE: state + the exact redirect URI.
  authKind: 'oauth2-state',
  pkce: false,
  customerControl: {
    kind: 'projects',
    description:
      'Project-scoped: only the projects the admin selects are ever requested, hooked or written; admin disconnect.',
  },
  dataIn: ['projects', 'drawings', 'rfis', 'daily-logs'],
  dataOut: ['status-update'],
  syncResources: PROCORE_SYNC_RESOURCES,
  syncMode: 'webhook-and-since',
  rateLimit: {
    // Procore's default is 3,600 requests per hour per app and user, plus a 10-second spike window.
    requestsPerMinute: 50,
  },
  // Hooks do not expire.
  webhook: { scheme: 'procore-destination-header' },
  revocation: {
    kind: 'revoke-endpoint',
    note: 'Procore revokes the access and the refresh token at /oauth/revoke; disconnect also deletes our project hooks.',
  },
  cacheTtlMs: 24 * 60 * 60_000,
};

export const procoreDescriptors: readonly VendorDescriptor[] = [procoreDescriptor];
