/**
 * The Autodesk rows of the vendor matrix built on Autodesk Platform Services (APS): Autodesk
 * Construction Cloud, Autodesk Docs and Autodesk Tandem. All sign in with APS OAuth v2, three-legged with PKCE
 * (S256); APS refresh tokens are single-use (every refresh returns a new pair).
 *
 * Customer control (T18): an APS token reaches every hub, project and facility its user can see, so
 * the admin's selection is mandatory: `projects` (Data Management project ids, `b.<uuid>`) and, where
 * the user belongs to several hubs, the hub (`hubs`, one id); for Tandem, `facilities`. Only the selected projects are ever
 * read, hooked or written. Data out (T19) also needs the admin's switch: the `writes` setting lists
 * the actions enabled (ACC: `issues`, `rfis`; Tandem: `twin-sync-updates`, `asset-status`); without it every write is refused before it is made.
 */
import type { VendorDescriptor } from '../types';

export const APS_READ = 'data:read';
export const APS_WRITE = 'data:write';
export const APS_ACCOUNT_READ = 'account:read';

/** Construction Cloud: the selected projects, their documents (BIM models, drawings, sheets) and issues. */
export const ACC_SYNC_RESOURCES = ['projects', 'documents', 'issues'] as const;
/** Docs: the selected projects and their folder tree (folders and the documents in them). */
export const DOCS_SYNC_RESOURCES = ['projects', 'folder-tree'] as const;
/** Tandem: the selected facilities and the assets of their models (metadata and parameters). */
export const TANDEM_SYNC_RESOURCES = ['facilities', 'assets'] as const;
export type AutodeskResource =
  (typeof ACC_SYNC_RESOURCES)[number] | (typeof DOCS_SYNC_RESOURCES)[number] | (typeof TANDEM_SYNC_RESOURCES)[number];

/** ACC data out, as the admin's `writes` setting names them. */
export const ACC_ACTIONS = ['issues', 'rfis'] as const;
/** Tandem data out: a parameter of an asset, as a twin sync update or as the asset's status. */
export const TANDEM_ACTIONS = ['twin-sync-updates', 'asset-status'] as const;

/** What the rows share: APS OAuth with PKCE, APS's published limits, the revoke endpoint. */
const aps = {
  authKind: 'oauth2-pkce',
  pkce: true,
  syncMode: 'webhook-and-since',
  rateLimit: {
    // APS publishes per-endpoint limits per app (Data Management and Issues: a few hundred per
    // minute); we stay well below, counted per workspace.
    requestsPerMinute: 100,
  },
  revocation: {
    kind: 'revoke-endpoint',
    note: 'APS revokes the refresh token (and the access tokens issued with it) at /authentication/v2/revoke; disconnect first deletes our hooks.',
  },
  cacheTtlMs: 24 * 60 * 60_000,
} as const satisfies Partial<VendorDescriptor>;

export const accDescriptor: VendorDescriptor = {
  ...aps,
  id: 'autodesk-acc',
  displayName: 'Autodesk Construction Cloud',
  scopes: { required: [APS_READ, APS_WRITE], optional: [] },
  customerControl: {
    kind: 'projects',
    description:
      'Project-scoped: only the projects the admin selects are read, hooked or written; writes only when the admin enables them (`writes`); admin disconnect.',
    settings: ['hubs', 'writes'],
  },
  dataIn: ['bim', 'drawings', 'sheets', 'issues'],
  dataOut: [...ACC_ACTIONS],
  syncResources: ACC_SYNC_RESOURCES,
  webhook: { scheme: 'autodesk-hmac-sha1' },
};

export const docsDescriptor: VendorDescriptor = {
  ...aps,
  id: 'autodesk-docs',
  displayName: 'Autodesk Docs',
  scopes: { required: [APS_READ, APS_ACCOUNT_READ], optional: [] },
  customerControl: {
    kind: 'hubs',
    description:
      'Hub- and project-scoped: the admin picks a hub and its projects; only those are read; admin disconnect.',
    settings: ['projects'],
  },
  dataIn: ['folder-tree', 'drawings', 'sheets'],
  dataOut: ['updated-metadata', 'transmittals'],
  syncResources: DOCS_SYNC_RESOURCES,
  // Creating an APS hook needs data:write (or data:create), outside this row's scopes: no hooks,
  // the folder tree is read on the schedule and on demand.
  syncMode: 'scheduled-poll',
  webhook: { scheme: 'none' },
};

export const tandemDescriptor: VendorDescriptor = {
  ...aps,
  id: 'autodesk-tandem',
  displayName: 'Autodesk Tandem',
  scopes: { required: [APS_READ, APS_WRITE], optional: [] },
  customerControl: {
    kind: 'facilities',
    description:
      'Facility-scoped: only the facilities the admin selects are read or written, writes only when enabled (`writes`); our app must be added to each as a service; admin disconnect.',
    settings: ['writes'],
  },
  dataIn: ['facility-model', 'asset-metadata', 'parameters'],
  dataOut: [...TANDEM_ACTIONS],
  syncResources: TANDEM_SYNC_RESOURCES,
  // Tandem has no webhooks: facilities are read on the schedule and on demand.
  syncMode: 'scheduled-poll',
  webhook: { scheme: 'none' },
};

export const autodeskDescriptors: readonly VendorDescriptor[] = [accDescriptor, docsDescriptor, tandemDescriptor];
