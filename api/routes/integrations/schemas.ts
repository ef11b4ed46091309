/** TypeBox schemas of the integration routes: request bodies, the integration as read, and the 202 answer. */
import { Type } from 'typebox';
import { problemResponses } from '../../problem';
import { ControlsSchema, RunLinks, ScopeList, Uuid, VendorIdSchema } from '../../schemas';
import { PollIntervalSchema } from './schedule';

/** Service-account credentials: a handful of fields (key id, key, tenant URL…), each bounded. */
export const CredentialSchema = Type.Record(
  Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
  Type.String({ minLength: 1, maxLength: 16_384 }),
  {
    minProperties: 1,
    maxProperties: 20,
    description:
      'Write-only: stored envelope-encrypted before any workflow sees its reference; never logged or returned.',
  },
);

/**
 * SAML sign-in instead of OIDC (rows that offer it): the IdP's metadata document, or its URL on a
 * host the row's IdPs serve metadata from (checked by the worker when it fetches it). The worker
 * parses and trusts it; the API only bounds it.
 */
export const SamlMetadataSchema = Type.Union([
  Type.Object(
    { metadataXml: Type.String({ minLength: 1, maxLength: 100_000, description: 'The IdP metadata XML' }) },
    { additionalProperties: false },
  ),
  Type.Object(
    { metadataUrl: Type.String({ format: 'uri', pattern: '^https?://', maxLength: 2048 }) },
    { additionalProperties: false },
  ),
]);

export const ConnectBody = Type.Object(
  {
    vendor: VendorIdSchema,
    /** Default: the vendor's required scopes. Must include them and stay within required ∪ optional (T1). */
    scopes: Type.Optional(ScopeList),
    controls: Type.Optional(ControlsSchema),
    /** Must be this API's OAuth callback for the vendor (exact match, registered with the vendor). */
    redirectUri: Type.Optional(Type.String({ format: 'uri', maxLength: 2048 })),
    credential: Type.Optional(CredentialSchema),
    saml: Type.Optional(SamlMetadataSchema),
    /** T12: poll at this cadence from the start (default: no scheduled polling, webhooks and "sync now" only). */
    pollIntervalMs: Type.Optional(PollIntervalSchema),
  },
  { additionalProperties: false },
);

export const SyncProgressSchema = Type.Object({
  state: Type.String(),
  resource: Type.Optional(Type.String()),
  pages: Type.Integer(),
  recordsUpserted: Type.Integer(),
  recordsDeleted: Type.Integer(),
  rateLimitWaits: Type.Integer(),
  startedAt: Type.Optional(Type.String()),
  finishedAt: Type.Optional(Type.String()),
});

/** T2: this API's authorize hand-off link (`GET …/authorize`), shown to admins while consent is awaited. */
const AuthorizeLink = Type.String({
  description:
    "This API's authorize hand-off: GET it with the token of the user who started the consent to receive the vendor's authorize URL and the consent session cookie",
});

const ConnectStateSchema = Type.Object({
  status: Type.String(),
  authorizeUrl: Type.Optional(AuthorizeLink),
  failure: Type.Optional(Type.String()),
  /** The vendor permission a submitted service-account credential lacks (its test failed; the current one stays). */
  missingPermission: Type.Optional(Type.String()),
});

const LiveStateSchema = Type.Object({
  status: Type.String(),
  pendingSync: Type.Boolean(),
  pollIntervalMs: Type.Optional(Type.Integer({ description: 'The cadence the lifecycle polls at' })),
  pollFloorMs: Type.Optional(Type.Integer({ description: 'The floor the lifecycle holds polling to' })),
  lastSync: Type.Optional(SyncProgressSchema),
  nextTokenRefreshAt: Type.Optional(Type.String()),
  nextRotationAt: Type.Optional(Type.String()),
  /** T8: how the last rotation ended (`rotated`, `test-failed`, `renewal-requested`…), with its typed failure. */
  lastRotation: Type.Optional(
    Type.Object({
      kind: Type.String(),
      status: Type.String(),
      failure: Type.Optional(Type.String()),
      at: Type.String(),
    }),
  ),
  /** T8: the admin is asked to upload a new secret of this kind (the vendor has no API for us to set one). */
  renewalRequested: Type.Optional(Type.Object({ kind: Type.String(), since: Type.String() })),
  subscriptions: Type.Array(Type.Object({ resource: Type.String(), expiresAt: Type.Optional(Type.String()) })),
});

export const IntegrationSchema = Type.Object({
  integrationId: Uuid,
  vendor: Type.String(),
  status: Type.String(),
  requestedScopes: Type.Array(Type.String()),
  grantedScopes: Type.Array(Type.String()),
  controls: ControlsSchema,
  pollIntervalMs: Type.Optional(
    Type.Integer({ description: 'The customer’s polling cadence in ms (T12); absent: not polled on a schedule' }),
  ),
  pollFloorMs: Type.Optional(
    Type.Integer({
      description:
        "The lowest cadence allowed now (T12): the vendor's request budget over the pages this integration's last sync and those of the workspace's other integrations on the same budget cost, leaving headroom for the account's other traffic",
    }),
  ),
  connectedBy: Type.Optional(Type.String()),
  connectedAt: Type.Optional(Type.String()),
  disconnectedAt: Type.Optional(Type.String()),
  purgeAfter: Type.Optional(Type.String()),
  createdAt: Type.Optional(Type.String()),
  updatedAt: Type.Optional(Type.String()),
  /** Live workflow state, when the integration's lifecycle is running. */
  live: Type.Optional(LiveStateSchema),
  /** Connect progress, while a connect (or reconnect) is in flight, or its failure. */
  connect: Type.Optional(ConnectStateSchema),
  links: RunLinks,
});

export const Accepted = Type.Object({
  integrationId: Uuid,
  workflowId: Type.String(),
  status: Type.String(),
  authorizeUrl: Type.Optional(AuthorizeLink),
  joined: Type.Optional(Type.Boolean()),
  purgeDeadline: Type.Optional(Type.String()),
  links: Type.Object({ temporalUi: Type.String(), status: Type.String() }),
});

/** Responses of the routes that start or talk to a workflow. */
export const writeResponses = { 202: Accepted, ...problemResponses(404, 409, 422) };
