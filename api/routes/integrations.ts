/**
 * Integration routes (T2, T17): connect, reconnect, restrict scopes, change customer controls,
 * sync now, rotate, disconnect, and status reads. Writes start or talk to workflows and answer 202
 * with the run's id and its Temporal UI link; reads combine the database row with the live
 * workflow state (queries). Every request is validated first: scopes outside the vendor matrix,
 * broadened scopes or foreign controls are 422 before any workflow hears of them (T1, T18).
 */
import crypto from 'node:crypto';
import type { WorkflowHandle } from '@temporalio/client';
import type { FastifyRequest } from 'fastify';
import { Type, type Static } from 'typebox';
import type { VendorDescriptor, VendorId } from '../../activities/vendors/types';
import { MAX_PURGE_DELAY_MS } from '../../lib/config';
import { requestSync } from '../syncNow';
import {
  connectStateQuery,
  consentChangeUpdate,
  disconnectStateQuery,
  integrationStateQuery,
  rotatedKinds,
  rotateNowSignal,
  syncProgressQuery,
  workflowIds,
  type ConnectInput,
  type ConnectState,
  type DisconnectInput,
  type SyncProgress,
} from '../../workflows/definitions';
import { callerActor } from '../guard';
import { vendorUnavailable } from './vendors';
import { IdempotencyHeaders, keyedId, keyedRun, keyedStart, requestFingerprint } from '../idempotency';
import { HttpProblem, problemResponses } from '../problem';
import { queryIfRunning, runLinks, startRun, temporalCall, WORKFLOW_TYPES } from '../runs';
import {
  absentBodyIsEmpty,
  ControlsSchema,
  IntegrationParams,
  RunLinks,
  ScopeList,
  ScopeSchema,
  Uuid,
  VendorIdSchema,
  WorkspaceParams,
} from '../schemas';
import type { ApiServices } from '../services';
import { getIntegration, listIntegrations, reservePendingIntegration, type IntegrationRow } from '../store';
import type { Api } from '../types';
import { oauthRedirectUri } from './oauthCallback';

/** How long connect waits for the workflow to publish the authorize URL before answering with a status link. */
const AUTHORIZE_URL_WAIT_MS = 3_000;
const AUTHORIZE_URL_POLL_MS = 100;

/** Service-account credentials: a handful of fields (key id, key, tenant URL…), each bounded. */
const CredentialSchema = Type.Record(
  Type.String({ pattern: '^[A-Za-z0-9_.-]{1,64}$' }),
  Type.String({ minLength: 1, maxLength: 16_384 }),
  {
    minProperties: 1,
    maxProperties: 20,
    description:
      'Write-only: stored envelope-encrypted before any workflow sees its reference; never logged or returned.',
  },
);

const ConnectBody = Type.Object(
  {
    vendor: VendorIdSchema,
    /** Default: the vendor's required scopes. Must include them and stay within required ∪ optional (T1). */
    scopes: Type.Optional(ScopeList),
    controls: Type.Optional(ControlsSchema),
    /** Must be this API's OAuth callback for the vendor (exact match, registered with the vendor). */
    redirectUri: Type.Optional(Type.String({ format: 'uri', maxLength: 2048 })),
    credential: Type.Optional(CredentialSchema),
  },
  { additionalProperties: false },
);

const SyncProgressSchema = Type.Object({
  state: Type.String(),
  resource: Type.Optional(Type.String()),
  pages: Type.Integer(),
  recordsUpserted: Type.Integer(),
  recordsDeleted: Type.Integer(),
  rateLimitWaits: Type.Integer(),
  startedAt: Type.Optional(Type.String()),
  finishedAt: Type.Optional(Type.String()),
});

const ConnectStateSchema = Type.Object({
  status: Type.String(),
  authorizeUrl: Type.Optional(Type.String()),
  failure: Type.Optional(Type.String()),
});

const LiveStateSchema = Type.Object({
  status: Type.String(),
  pendingSync: Type.Boolean(),
  pollIntervalMs: Type.Optional(Type.Integer()),
  lastSync: Type.Optional(SyncProgressSchema),
  nextTokenRefreshAt: Type.Optional(Type.String()),
  nextRotationAt: Type.Optional(Type.String()),
  subscriptions: Type.Array(Type.Object({ resource: Type.String(), expiresAt: Type.Optional(Type.String()) })),
});

const IntegrationSchema = Type.Object({
  integrationId: Uuid,
  vendor: Type.String(),
  status: Type.String(),
  requestedScopes: Type.Array(Type.String()),
  grantedScopes: Type.Array(Type.String()),
  controls: ControlsSchema,
  pollIntervalMs: Type.Optional(Type.Integer()),
  connectedBy: Type.Optional(Type.String()),
  connectedAt: Type.Optional(Type.String()),
  disconnectedAt: Type.Optional(Type.String()),
  purgeAfter: Type.Optional(Type.String()),
  createdAt: Type.Optional(Type.String()),
  updatedAt: Type.Optional(Type.String()),
  /** Live workflow state, when the integration's lifecycle is running. */
  live: Type.Optional(LiveStateSchema),
  /** Connect progress, while a connect (or reconnect) is in flight. */
  connect: Type.Optional(ConnectStateSchema),
  links: RunLinks,
});

const Accepted = Type.Object({
  integrationId: Uuid,
  workflowId: Type.String(),
  status: Type.String(),
  authorizeUrl: Type.Optional(Type.String()),
  joined: Type.Optional(Type.Boolean()),
  purgeDeadline: Type.Optional(Type.String()),
  links: Type.Object({ temporalUi: Type.String(), status: Type.String() }),
});

const iso = (value: Date | string | null | undefined): string | undefined =>
  value === null || value === undefined ? undefined : new Date(value).toISOString();

function presentRow(row: IntegrationRow) {
  return {
    integrationId: row.integration_id,
    vendor: row.vendor,
    status: row.status,
    requestedScopes: row.requested_scopes,
    grantedScopes: row.granted_scopes,
    controls: row.controls,
    pollIntervalMs: row.poll_interval_ms ?? undefined,
    connectedBy: row.connected_by ?? undefined,
    connectedAt: iso(row.connected_at),
    disconnectedAt: iso(row.disconnected_at),
    purgeAfter: iso(row.purge_after),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

type Params = Static<typeof IntegrationParams>;

export function registerIntegrationRoutes(app: Api, services: ApiServices): void {
  const { temporal } = services;
  const statusUrl = (workspaceId: string, integrationId: string) =>
    `/v1/workspaces/${workspaceId}/integrations/${integrationId}`;

  const descriptorOf = (vendor: string, pointer: string): VendorDescriptor => {
    const row = services.vendors.get(vendor as VendorId);
    if (!row) {
      throw new HttpProblem(422, `Unknown vendor "${vendor}"`, {
        errors: [{ pointer, detail: `one of ${[...services.vendors.keys()].join(', ')}` }],
      });
    }
    if (row.availability !== 'available') throw vendorUnavailable(row, pointer);
    return row.descriptor;
  };

  /** Loads the integration (404 when absent in this workspace, RLS-bound) and records its ids for the audit entry. */
  const loadIntegration = async (request: FastifyRequest, params: Params): Promise<IntegrationRow> => {
    request.auditFacts.integrationId = params.integrationId;
    const row = await getIntegration(services.db, params.workspaceId, params.integrationId);
    if (!row) throw new HttpProblem(404, 'No such integration in this workspace');
    request.auditFacts.vendor = row.vendor;
    return row;
  };

  /** An integration that has (or had until its grant lapsed) a working connection: a new consent must not tear it down. */
  const isEstablished = (row: IntegrationRow) =>
    row.status === 'connected' || row.status === 'reauthorization_required';

  /** The integration's lifecycle workflow, once the integration is known to be in this workspace (404 otherwise). */
  const lifecycleOf = async (request: FastifyRequest, params: Params) => {
    const row = await loadIntegration(request, params);
    return {
      row,
      lifecycle: temporal.client.workflow.getHandle(workflowIds.lifecycle(params.workspaceId, params.integrationId)),
    };
  };

  /**
   * Sends a request to the integration's lifecycle without reading the integration first: its
   * workflow id is built from the path's workspace (bound to the token) and integration, so no
   * other workspace's lifecycle is addressable. Only when no lifecycle runs does the row decide
   * between 404 (no such integration here) and 409 (not running). Keeps "sync now", the route
   * backend services call most, at one Temporal call plus the audit append.
   */
  const callLifecycle = async <T>(
    request: FastifyRequest,
    params: Params,
    call: (lifecycle: WorkflowHandle) => Promise<T>,
  ): Promise<T> => {
    request.auditFacts.integrationId = params.integrationId;
    const lifecycle = temporal.client.workflow.getHandle(
      workflowIds.lifecycle(params.workspaceId, params.integrationId),
    );
    try {
      return await request.timing.measure('temporal', () => temporalCall(temporal, () => call(lifecycle)));
    } catch (error) {
      if (error instanceof HttpProblem && error.extensions.errorClass === 'NotRunning')
        await loadIntegration(request, params);
      throw error;
    }
  };

  const assertControls = (descriptor: VendorDescriptor, controls: Record<string, string[]>, pointer: string): void => {
    const allowed = descriptor.customerControl.kind;
    const foreign = Object.keys(controls).filter((key) => key !== allowed || allowed === 'none');
    if (foreign.length > 0) {
      throw new HttpProblem(422, `${descriptor.displayName} takes the customer control "${allowed}" only`, {
        errors: foreign.map((key) => ({ pointer: `${pointer}/${key}`, detail: `not a control of ${descriptor.id}` })),
      });
    }
  };

  const assertScopes = (descriptor: VendorDescriptor, scopes: readonly string[]): void => {
    const known = new Set([...descriptor.scopes.required, ...descriptor.scopes.optional]);
    const errors = [
      ...scopes.flatMap((scope, index) =>
        known.has(scope)
          ? []
          : [
              {
                pointer: `/body/scopes/${index}`,
                detail: `"${scope}" is not in the vendor matrix for ${descriptor.id}`,
              },
            ],
      ),
      ...descriptor.scopes.required
        .filter((scope) => !scopes.includes(scope))
        .map((scope) => ({ pointer: '/body/scopes', detail: `required scope "${scope}" is missing` })),
    ];
    if (errors.length > 0)
      throw new HttpProblem(
        422,
        'Requested scopes must be exactly the matrix scopes: the required ones plus chosen optional ones (T1)',
        { errors },
      );
  };

  const assertRedirect = (vendor: string, redirectUri: string | undefined): string => {
    const expected = oauthRedirectUri(services.publicUrl, vendor);
    if (redirectUri !== undefined && redirectUri !== expected) {
      throw new HttpProblem(422, "redirectUri must be exactly this API's OAuth callback for the vendor", {
        errors: [{ pointer: '/body/redirectUri', detail: `expected ${expected}` }],
      });
    }
    return expected;
  };

  /** Waits briefly for the connect workflow to publish where the admin's browser goes next. */
  const awaitConnectState = async (workflowId: string): Promise<ConnectState | undefined> => {
    const handle = temporal.client.workflow.getHandle(workflowId);
    const deadline = Date.now() + AUTHORIZE_URL_WAIT_MS;
    let state: ConnectState | undefined;
    do {
      state = await queryIfRunning(temporal, () => handle.query(connectStateQuery));
      if (state && state.status !== 'validating') return state;
      await new Promise((resolve) => setTimeout(resolve, AUTHORIZE_URL_POLL_MS));
    } while (Date.now() < deadline);
    return state;
  };

  const startConnect = async (
    request: FastifyRequest,
    input: ConnectInput,
    ifRunning: 'join' | 'conflict',
    requestFingerprint?: string,
  ) => {
    const workflowId = workflowIds.connect(input.workspaceId, input.integrationId);
    request.auditFacts.workflowId = workflowId;
    await startRun(temporal, {
      workflowType: WORKFLOW_TYPES.connect,
      workflowId,
      args: [input],
      process: 'connect',
      workspaceId: input.workspaceId,
      integrationId: input.integrationId,
      vendor: input.vendor,
      ...(requestFingerprint ? keyedStart(requestFingerprint) : { ifRunning }),
    });
    // Two first attempts with one key raced: the one that joined the other's run must match it.
    if (requestFingerprint) await keyedRun(temporal, workflowId, requestFingerprint);
    const state = await awaitConnectState(workflowId);
    return {
      integrationId: input.integrationId,
      workflowId,
      status: state?.status ?? 'starting',
      ...(state?.authorizeUrl ? { authorizeUrl: state.authorizeUrl } : {}),
      links: { ...runLinks(temporal, workflowId), status: statusUrl(input.workspaceId, input.integrationId) },
    };
  };

  /** The answer to a keyed retry: where the first attempt stands now (its authorize URL while consent is awaited). */
  const replayConnect = async (
    request: FastifyRequest,
    workspaceId: string,
    integrationId: string,
    running: boolean,
  ) => {
    const workflowId = workflowIds.connect(workspaceId, integrationId);
    request.auditFacts.workflowId = workflowId;
    const state = running ? await awaitConnectState(workflowId) : undefined;
    const row = state ? undefined : await getIntegration(services.db, workspaceId, integrationId);
    return {
      integrationId,
      workflowId,
      status: state?.status ?? row?.status ?? 'closed',
      ...(state?.authorizeUrl ? { authorizeUrl: state.authorizeUrl } : {}),
      links: { ...runLinks(temporal, workflowId), status: statusUrl(workspaceId, integrationId) },
    };
  };

  /** Stores a service-account credential envelope-encrypted (T6) before any workflow gets its id. */
  const storeCredential = async (
    workspaceId: string,
    integrationId: string,
    credential: Record<string, string>,
  ): Promise<string> =>
    // Pending until the connect workflow has proven it works and promotes it.
    (
      await services.secrets.put({
        workspaceId,
        integrationId,
        kind: 'service-account',
        plaintext: JSON.stringify(credential),
        state: 'pending',
      })
    ).secretId;

  const writeResponses = { 202: Accepted, ...problemResponses(404, 409, 422) };

  app.post(
    '/v1/workspaces/:workspaceId/integrations',
    {
      schema: {
        tags: ['integrations'],
        summary: 'Connect a vendor: starts the connect workflow; OAuth vendors answer with the authorize URL',
        params: WorkspaceParams,
        headers: IdempotencyHeaders,
        body: ConnectBody,
        response: writeResponses,
      },
      config: { access: { action: 'integration.connect', permission: 'manage' } },
    },
    async (request, reply) => {
      const { workspaceId } = request.params;
      const idempotencyKey = request.headers['idempotency-key'];
      const body = request.body;
      const descriptor = descriptorOf(body.vendor, '/body/vendor');
      request.auditFacts.vendor = descriptor.id;
      const requestedScopes = body.scopes ?? [...descriptor.scopes.required];
      assertScopes(descriptor, requestedScopes);
      const controls = body.controls ?? {};
      assertControls(descriptor, controls, '/body/controls');
      const serviceAccount = descriptor.authKind === 'service-account';
      if (serviceAccount !== (body.credential !== undefined)) {
        throw new HttpProblem(
          422,
          serviceAccount
            ? `${descriptor.displayName} connects with a service-account credential`
            : `${descriptor.displayName} connects through OAuth: no credential is accepted`,
          {
            errors: [{ pointer: '/body/credential', detail: serviceAccount ? 'required' : 'not allowed' }],
          },
        );
      }
      const redirectUri = assertRedirect(descriptor.id, body.redirectUri);
      const actor = callerActor(request);
      const integrationId = idempotencyKey
        ? keyedId('connect', workspaceId, actor.id, idempotencyKey)
        : crypto.randomUUID();
      request.auditFacts.integrationId = integrationId;
      // Scopes and selections are sets; the credential itself never reaches the memo, only whether one came.
      const fingerprint = idempotencyKey
        ? requestFingerprint({
            vendor: descriptor.id,
            scopes: [...requestedScopes].sort(),
            controls: Object.fromEntries(Object.entries(controls).map(([key, values]) => [key, [...values].sort()])),
            credential: Boolean(body.credential),
          })
        : undefined;
      if (fingerprint) {
        const replayed = await keyedRun(temporal, workflowIds.connect(workspaceId, integrationId), fingerprint);
        if (replayed)
          return reply
            .status(202)
            .send(await replayConnect(request, workspaceId, integrationId, replayed.status.name === 'RUNNING'));
        // The key's run is no longer retained but its integration is: never connect it a second time.
        if (await getIntegration(services.db, workspaceId, integrationId)) {
          throw new HttpProblem(
            409,
            'This Idempotency-Key belongs to an existing integration whose connect run has expired; reconnect it instead',
            { errorClass: 'IdempotencyKeyExpired' },
          );
        }
      }

      let credentialSecretId: string | undefined;
      if (body.credential) {
        await reservePendingIntegration(services.db, {
          workspaceId,
          integrationId,
          vendor: descriptor.id,
          requestedScopes,
          controls,
          connectedBy: actor.id,
        });
        credentialSecretId = await storeCredential(workspaceId, integrationId, body.credential);
      }
      const accepted = await startConnect(
        request,
        {
          workspaceId,
          integrationId,
          vendor: descriptor.id,
          requestedScopes,
          controls,
          redirectUri,
          actor,
          ...(credentialSecretId ? { credentialSecretId } : {}),
        },
        fingerprint ? 'join' : 'conflict',
        fingerprint,
      );
      return reply.status(202).send(accepted);
    },
  );

  app.get(
    '/v1/workspaces/:workspaceId/integrations',
    {
      schema: {
        tags: ['integrations'],
        summary: 'Integrations of the workspace (database state)',
        params: WorkspaceParams,
        response: { 200: Type.Object({ integrations: Type.Array(IntegrationSchema) }), ...problemResponses() },
      },
      config: { access: { action: 'integration.list', permission: 'read' } },
    },
    async (request) => {
      const rows = await listIntegrations(services.db, request.params.workspaceId);
      return {
        integrations: rows.map((row) => ({
          ...presentRow(row),
          links: runLinks(temporal, workflowIds.lifecycle(row.workspace_id, row.integration_id)),
        })),
      };
    },
  );

  app.get(
    '/v1/workspaces/:workspaceId/integrations/:integrationId',
    {
      schema: {
        tags: ['integrations'],
        summary: 'One integration: database state plus the live workflow state',
        params: IntegrationParams,
        response: { 200: IntegrationSchema, ...problemResponses(404) },
      },
      config: { access: { action: 'integration.read', permission: 'read' } },
    },
    async (request) => {
      const { workspaceId, integrationId } = request.params;
      request.auditFacts.integrationId = integrationId;
      const row = await getIntegration(services.db, workspaceId, integrationId);
      const lifecycleId = workflowIds.lifecycle(workspaceId, integrationId);
      const connect = await queryIfRunning(temporal, () =>
        temporal.client.workflow.getHandle(workflowIds.connect(workspaceId, integrationId)).query(connectStateQuery),
      );
      if (!row) {
        // Between the connect request and the workflow's first write there is no row yet: the run is the truth.
        if (!connect) throw new HttpProblem(404, 'No such integration in this workspace');
        return {
          integrationId,
          vendor: 'unknown',
          status: 'connecting',
          requestedScopes: [],
          grantedScopes: [],
          controls: {},
          connect,
          links: runLinks(temporal, workflowIds.connect(workspaceId, integrationId)),
        };
      }
      request.auditFacts.vendor = row.vendor;
      const live = await queryIfRunning(temporal, () =>
        temporal.client.workflow.getHandle(lifecycleId).query(integrationStateQuery),
      );
      return {
        ...presentRow(row),
        ...(live ? { live: { ...live, subscriptions: live.subscriptions ?? [] } } : {}),
        ...(connect && !['connected', 'failed', 'expired'].includes(connect.status) ? { connect } : {}),
        links: runLinks(temporal, lifecycleId),
      };
    },
  );

  const consentAccepted = (workspaceId: string, integrationId: string) => {
    const workflowId = workflowIds.lifecycle(workspaceId, integrationId);
    return {
      integrationId,
      workflowId,
      status: 'accepted',
      links: { ...runLinks(temporal, workflowId), status: statusUrl(workspaceId, integrationId) },
    };
  };

  app.patch(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/scopes',
    {
      schema: {
        tags: ['integrations'],
        summary: 'Restrict scopes: narrowing only (a broader set is 422; broaden by reconnecting)',
        params: IntegrationParams,
        body: Type.Object(
          { scopes: Type.Array(ScopeSchema, { minItems: 1, maxItems: 50, uniqueItems: true }) },
          { additionalProperties: false },
        ),
        response: { 200: Accepted, ...problemResponses(404, 409, 422) },
      },
      config: { access: { action: 'integration.restrict-scopes', permission: 'manage' } },
    },
    async (request) => {
      const { workspaceId, integrationId } = request.params;
      const { row, lifecycle } = await lifecycleOf(request, request.params);
      const scopes = request.body.scopes;
      const current = new Set(row.granted_scopes.length > 0 ? row.granted_scopes : row.requested_scopes);
      const broadening = scopes.flatMap((scope, index) =>
        current.has(scope) ? [] : [{ pointer: `/body/scopes/${index}`, detail: `"${scope}" is not currently granted` }],
      );
      if (broadening.length > 0)
        throw new HttpProblem(422, 'Scopes can only be narrowed here; reconnect to request more', {
          errors: broadening,
        });
      request.auditFacts.workflowId = lifecycle.workflowId;
      await temporalCall(temporal, () =>
        lifecycle.executeUpdate(consentChangeUpdate, { args: [{ actor: callerActor(request), scopes }] }),
      );
      return consentAccepted(workspaceId, integrationId);
    },
  );

  app.patch(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/controls',
    {
      schema: {
        tags: ['integrations'],
        summary: 'Change the customer controls (selected repos, sites, channels, projects…)',
        params: IntegrationParams,
        body: Type.Object({ controls: ControlsSchema }, { additionalProperties: false }),
        response: { 200: Accepted, ...problemResponses(404, 409, 422) },
      },
      config: { access: { action: 'integration.change-controls', permission: 'manage' } },
    },
    async (request) => {
      const { workspaceId, integrationId } = request.params;
      const { row, lifecycle } = await lifecycleOf(request, request.params);
      assertControls(descriptorOf(row.vendor, '/vendor'), request.body.controls, '/body/controls');
      request.auditFacts.workflowId = lifecycle.workflowId;
      await temporalCall(temporal, () =>
        lifecycle.executeUpdate(consentChangeUpdate, {
          args: [{ actor: callerActor(request), controls: request.body.controls }],
        }),
      );
      return consentAccepted(workspaceId, integrationId);
    },
  );

  app.post(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/reconnect',
    {
      schema: {
        tags: ['integrations'],
        summary: 'Reconnect (re-consent) with the recorded scopes and controls; joins a reconnect in flight',
        params: IntegrationParams,
        body: Type.Object(
          { redirectUri: Type.Optional(Type.String({ format: 'uri', maxLength: 2048 })) },
          { additionalProperties: false },
        ),
        response: writeResponses,
      },
      preValidation: absentBodyIsEmpty,
      config: { access: { action: 'integration.reconnect', permission: 'manage' } },
    },
    async (request, reply) => {
      const { workspaceId, integrationId } = request.params;
      const row = await loadIntegration(request, request.params);
      const descriptor = descriptorOf(row.vendor, '/vendor');
      if (descriptor.authKind === 'service-account') {
        throw new HttpProblem(
          422,
          'Service-account integrations reconnect by posting a new credential to …/credentials',
        );
      }
      const accepted = await startConnect(
        request,
        {
          workspaceId,
          integrationId,
          vendor: descriptor.id,
          requestedScopes: row.requested_scopes,
          controls: row.controls,
          redirectUri: assertRedirect(descriptor.id, request.body.redirectUri),
          actor: callerActor(request),
          reconnect: isEstablished(row),
        },
        'join',
      );
      return reply.status(202).send(accepted);
    },
  );

  app.post(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/credentials',
    {
      schema: {
        tags: ['integrations'],
        summary:
          'Replace a service-account credential (stored encrypted first; the connect workflow validates and adopts it)',
        params: IntegrationParams,
        body: Type.Object({ credential: CredentialSchema }, { additionalProperties: false }),
        response: writeResponses,
      },
      config: { access: { action: 'integration.set-credential', permission: 'manage' } },
    },
    async (request, reply) => {
      const { workspaceId, integrationId } = request.params;
      const row = await loadIntegration(request, request.params);
      const descriptor = descriptorOf(row.vendor, '/vendor');
      if (descriptor.authKind !== 'service-account') {
        throw new HttpProblem(422, `${descriptor.displayName} connects through OAuth: reconnect instead`, {
          errors: [{ pointer: '/body/credential', detail: 'not allowed' }],
        });
      }
      const credentialSecretId = await storeCredential(workspaceId, integrationId, request.body.credential);
      const accepted = await startConnect(
        request,
        {
          workspaceId,
          integrationId,
          vendor: descriptor.id,
          requestedScopes: row.requested_scopes,
          controls: row.controls,
          redirectUri: oauthRedirectUri(services.publicUrl, descriptor.id),
          actor: callerActor(request),
          credentialSecretId,
          reconnect: isEstablished(row),
        },
        'conflict',
      );
      return reply.status(202).send(accepted);
    },
  );

  app.post(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/sync',
    {
      schema: {
        tags: ['sync'],
        summary: 'Sync now: joins the sync in flight if there is one (idempotent)',
        params: IntegrationParams,
        body: Type.Object(
          {
            resource: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:/-]+$' })),
            full: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: writeResponses,
      },
      preValidation: absentBodyIsEmpty,
      config: { access: { action: 'integration.sync', permission: 'operate' } },
    },
    async (request, reply) => {
      const { workspaceId, integrationId } = request.params;
      const result = await callLifecycle(request, request.params, (lifecycle) =>
        requestSync(lifecycle, {
          reason: 'admin',
          ...(request.body.resource ? { resource: request.body.resource } : {}),
          ...(request.body.full ? { full: true } : {}),
        }),
      );
      request.auditFacts.workflowId = result.syncWorkflowId;
      request.auditFacts.vendor = result.vendor;
      return reply.status(202).send({
        integrationId,
        workflowId: result.syncWorkflowId,
        status: result.joined ? 'joined' : 'started',
        joined: result.joined,
        links: {
          ...runLinks(temporal, result.syncWorkflowId),
          status: `${statusUrl(workspaceId, integrationId)}/sync`,
        },
      });
    },
  );

  app.get(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/sync',
    {
      schema: {
        tags: ['sync'],
        summary: 'Progress of the current (or last) sync',
        params: IntegrationParams,
        response: {
          200: Type.Object({
            integrationId: Uuid,
            workflowId: Type.String(),
            progress: SyncProgressSchema,
            links: RunLinks,
          }),
          ...problemResponses(404),
        },
      },
      config: { access: { action: 'integration.sync-progress', permission: 'read' } },
    },
    async (request) => {
      const { workspaceId, integrationId } = request.params;
      await loadIntegration(request, request.params);
      const syncId = workflowIds.sync(workspaceId, integrationId);
      const running = await queryIfRunning(temporal, () =>
        temporal.client.workflow.getHandle(syncId).query(syncProgressQuery),
      );
      const last = running
        ? undefined
        : (
            await queryIfRunning(temporal, () =>
              temporal.client.workflow
                .getHandle(workflowIds.lifecycle(workspaceId, integrationId))
                .query(integrationStateQuery),
            )
          )?.lastSync;
      const idle: SyncProgress = { state: 'idle', pages: 0, recordsUpserted: 0, recordsDeleted: 0, rateLimitWaits: 0 };
      return {
        integrationId,
        workflowId: syncId,
        progress: running ?? last ?? idle,
        links: runLinks(temporal, syncId),
      };
    },
  );

  app.post(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/rotate',
    {
      schema: {
        tags: ['integrations'],
        summary: "Rotate the integration's credential now (otherwise rotated on its cadence, T8)",
        params: IntegrationParams,
        response: writeResponses,
      },
      config: { access: { action: 'integration.rotate', permission: 'operate' } },
    },
    async (request, reply) => {
      const { workspaceId, integrationId } = request.params;
      const { row, lifecycle } = await lifecycleOf(request, request.params);
      if (rotatedKinds(descriptorOf(row.vendor, '/vendor')).length === 0) {
        throw new HttpProblem(422, 'This integration holds no credential of its own to rotate (sign-in only)', {
          errorClass: 'NothingToRotate',
        });
      }
      await temporalCall(temporal, () => lifecycle.signal(rotateNowSignal, { actor: callerActor(request) }));
      const rotateId = workflowIds.rotate(workspaceId, integrationId);
      request.auditFacts.workflowId = rotateId;
      return reply.status(202).send({
        integrationId,
        workflowId: rotateId,
        status: 'requested',
        links: { ...runLinks(temporal, rotateId), status: statusUrl(workspaceId, integrationId) },
      });
    },
  );

  app.delete(
    '/v1/workspaces/:workspaceId/integrations/:integrationId',
    {
      schema: {
        tags: ['integrations'],
        summary:
          'Disconnect: revoke at the vendor where possible, clear caches, purge cached data by the deadline (T4, T15)',
        params: IntegrationParams,
        response: writeResponses,
      },
      config: { access: { action: 'integration.disconnect', permission: 'manage' } },
    },
    async (request, reply) => {
      const { workspaceId, integrationId } = request.params;
      const row = await loadIntegration(request, request.params);
      const workflowId = workflowIds.disconnect(workspaceId, integrationId);
      request.auditFacts.workflowId = workflowId;
      const input: DisconnectInput = {
        workspaceId,
        integrationId,
        actor: callerActor(request),
        purgeDelayMs: Math.min(services.purgeDelayMs, MAX_PURGE_DELAY_MS),
      };
      const handle = await startRun(temporal, {
        workflowType: WORKFLOW_TYPES.disconnect,
        workflowId,
        args: [input],
        process: 'disconnect',
        workspaceId,
        integrationId,
        vendor: row.vendor,
        ifRunning: 'join',
      });
      const state = await queryIfRunning(temporal, () => handle.query(disconnectStateQuery));
      // The workflow's own deadline once it has one; until then the latest it can be (it clamps to the same bound).
      const purgeDeadline =
        state?.purgeDeadline ?? iso(row.purge_after) ?? new Date(Date.now() + input.purgeDelayMs).toISOString();
      return reply.status(202).send({
        integrationId,
        workflowId,
        status: state?.status ?? 'stopping',
        purgeDeadline,
        links: { ...runLinks(temporal, workflowId), status: statusUrl(workspaceId, integrationId) },
      });
    },
  );
}
