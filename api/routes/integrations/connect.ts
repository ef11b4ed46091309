/**
 * Connect (T1, T2, T6): validates the request against the vendor matrix, stores a service-account
 * credential encrypted first, starts the connect workflow (one run per Idempotency-Key) and waits
 * briefly for the consent to be awaited: the answer then links the authorize hand-off (`authorize.ts`).
 */
import crypto from 'node:crypto';
import type { FastifyRequest } from 'fastify';
import type { VendorDescriptor } from '../../../activities/vendors/types';
import { requestedScopeViolations } from '../../../lib/scopes';
import type { connectWorkflow } from '../../../workflows/connect';
import {
  connectStateQuery,
  workflowIds,
  type ConnectInput,
  type ConnectState,
  type SamlSignInInput,
} from '../../../workflows/definitions';
import { callerActor } from '../../guard';
import { IdempotencyHeaders, keyedId, keyedRun, keyedStart, requestFingerprint } from '../../idempotency';
import { HttpProblem } from '../../problem';
import { queryIfRunning, runLinks, startRun } from '../../runs';
import { WorkspaceParams } from '../../schemas';
import type { ApiServices } from '../../services';
import { getIntegration, reservePendingIntegration } from '../../../db/integrations';
import type { Api } from '../../types';
import { oauthRedirectUri } from '../oauthCallback';
import { samlAcsUrl, samlEntityId } from '../../../activities/vendors/shared/samlServiceProvider';
import { authorizeLink } from './authorize';
import { ConnectBody, writeResponses } from './schemas';
import { assertCadence, pollFloorOf } from './schedule';
import { assertControls, assertCredentialPolicy, statusUrl } from './shared';
import { descriptorOf } from './vendor';

/** How long connect waits for the workflow to publish the authorize URL before answering with a status link. */
const AUTHORIZE_URL_WAIT_MS = 3_000;
const AUTHORIZE_URL_POLL_MS = 100;

/** T1: the request names the required scopes plus chosen optional ones, nothing else. */
function assertScopes(descriptor: VendorDescriptor, scopes: readonly string[]): void {
  const violations = requestedScopeViolations(scopes, descriptor.scopes);
  if (!violations) return;
  throw new HttpProblem(
    422,
    'Requested scopes must be exactly the matrix scopes: the required ones plus chosen optional ones (T1)',
    {
      errors: [
        ...violations.outsideMatrix.map(({ scope, index }) => ({
          pointer: `/body/scopes/${index}`,
          detail: `"${scope}" is not in the vendor matrix for ${descriptor.id}`,
        })),
        ...violations.missingRequired.map((scope) => ({
          pointer: '/body/scopes',
          detail: `required scope "${scope}" is missing`,
        })),
      ],
    },
  );
}

export function assertRedirect(services: ApiServices, vendor: string, redirectUri: string | undefined): string {
  const expected = oauthRedirectUri(services.publicUrl, vendor);
  if (redirectUri !== undefined && redirectUri !== expected) {
    throw new HttpProblem(422, "redirectUri must be exactly this API's OAuth callback for the vendor", {
      errors: [{ pointer: '/body/redirectUri', detail: `expected ${expected}` }],
    });
  }
  return expected;
}

/** Waits briefly for the connect workflow to publish where the admin's browser goes next. */
async function awaitConnectState(services: ApiServices, workflowId: string): Promise<ConnectState | undefined> {
  const { temporal } = services;
  const handle = temporal.client.workflow.getHandle<typeof connectWorkflow>(workflowId);
  const deadline = Date.now() + AUTHORIZE_URL_WAIT_MS;
  let state: ConnectState | undefined;
  do {
    state = await queryIfRunning(temporal, () => handle.query(connectStateQuery));
    if (state && state.status !== 'validating') return state;
    await new Promise((resolve) => setTimeout(resolve, AUTHORIZE_URL_POLL_MS));
  } while (Date.now() < deadline);
  return state;
}

/** Starts (or joins, or with a key re-finds) the connect run and answers where it stands. */
export async function startConnect(
  services: ApiServices,
  request: FastifyRequest,
  input: ConnectInput,
  ifRunning: 'join' | 'conflict',
  requestFingerprint?: string,
) {
  const { temporal } = services;
  const workflowId = workflowIds.connect(input.workspaceId, input.integrationId);
  request.auditFacts.workflowId = workflowId;
  await startRun(temporal, {
    workflowType: 'connectWorkflow',
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
  const state = await awaitConnectState(services, workflowId);
  return {
    integrationId: input.integrationId,
    workflowId,
    status: state?.status ?? 'starting',
    ...(state?.authorizeUrl ? { authorizeUrl: authorizeLink(services, input.workspaceId, input.integrationId) } : {}),
    links: { ...runLinks(temporal, workflowId), status: statusUrl(input.workspaceId, input.integrationId) },
  };
}

/** The answer to a keyed retry: where the first attempt stands now (its authorize URL while consent is awaited). */
async function replayConnect(
  services: ApiServices,
  request: FastifyRequest,
  workspaceId: string,
  integrationId: string,
  running: boolean,
) {
  const workflowId = workflowIds.connect(workspaceId, integrationId);
  request.auditFacts.workflowId = workflowId;
  const state = running ? await awaitConnectState(services, workflowId) : undefined;
  const row = state ? undefined : await getIntegration(services.db, workspaceId, integrationId);
  return {
    integrationId,
    workflowId,
    status: state?.status ?? row?.status ?? 'closed',
    ...(state?.authorizeUrl ? { authorizeUrl: authorizeLink(services, workspaceId, integrationId) } : {}),
    links: { ...runLinks(services.temporal, workflowId), status: statusUrl(workspaceId, integrationId) },
  };
}

/** Stores a service-account credential envelope-encrypted (T6) before any workflow gets its id. */
export async function storeCredential(
  services: ApiServices,
  workspaceId: string,
  integrationId: string,
  credential: Record<string, string>,
): Promise<string> {
  // Pending until the connect workflow has proven it works and promotes it.
  const stored = await services.secrets.put({
    workspaceId,
    integrationId,
    kind: 'service-account',
    plaintext: JSON.stringify(credential),
    state: 'pending',
  });
  return stored.secretId;
}

/**
 * SAML sign-in: the admin's IdP metadata (or its URL) stored encrypted like a credential, pending
 * until a sign-in against it succeeds; the workflow gets its id and our audience and ACS URL.
 */
async function storeSamlMetadata(
  services: ApiServices,
  workspaceId: string,
  integrationId: string,
  metadata: { metadataXml: string } | { metadataUrl: string },
): Promise<SamlSignInInput> {
  const stored = await services.secrets.put({
    workspaceId,
    integrationId,
    kind: 'saml-idp-metadata',
    state: 'pending',
    plaintext: JSON.stringify(
      'metadataXml' in metadata ? { xml: metadata.metadataXml } : { url: metadata.metadataUrl },
    ),
  });
  return samlSignInWith(services, stored.secretId);
}

/** Our side of a SAML sign-in against the IdP whose stored metadata is `metadataSecretId`. */
export function samlSignInWith(services: ApiServices, metadataSecretId: string): SamlSignInInput {
  return { metadataSecretId, entityId: samlEntityId(services.publicUrl), acsUrl: samlAcsUrl(services.publicUrl) };
}

export function registerConnectRoute(app: Api, services: ApiServices): void {
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
      const descriptor = descriptorOf(services, body.vendor, '/body/vendor');
      request.auditFacts.vendor = descriptor.id;
      assertCredentialPolicy(descriptor, body.credential);
      const requestedScopes = body.scopes ?? [...descriptor.scopes.required];
      assertScopes(descriptor, requestedScopes);
      const controls = body.controls ?? {};
      assertControls(descriptor, controls, '/body/controls');
      const redirectUri = assertRedirect(services, descriptor.id, body.redirectUri);
      if (body.saml && !descriptor.samlSignIn)
        throw new HttpProblem(422, `${descriptor.displayName} does not sign in over SAML`, {
          errors: [{ pointer: '/body/saml', detail: `not offered by ${descriptor.id}` }],
        });
      // A new integration has no sync yet: its floor is what the first one costs at least (a page per
      // resource), next to the workspace's integrations already on the same vendor budget.
      if (body.pollIntervalMs !== undefined)
        assertCadence(
          descriptor,
          body.pollIntervalMs,
          await pollFloorOf(services, workspaceId, undefined, descriptor),
          '/body/pollIntervalMs',
        );
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
            saml: Boolean(body.saml),
            ...(body.pollIntervalMs !== undefined ? { pollIntervalMs: body.pollIntervalMs } : {}),
          })
        : undefined;
      if (fingerprint) {
        const replayed = await keyedRun(
          services.temporal,
          workflowIds.connect(workspaceId, integrationId),
          fingerprint,
        );
        if (replayed)
          return reply
            .status(202)
            .send(
              await replayConnect(services, request, workspaceId, integrationId, replayed.status.name === 'RUNNING'),
            );
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
      let saml: SamlSignInInput | undefined;
      if (body.credential || body.saml) {
        await reservePendingIntegration(services.db, {
          workspaceId,
          integrationId,
          vendor: descriptor.id,
          requestedScopes,
          controls,
          connectedBy: actor.id,
          ...(body.pollIntervalMs !== undefined ? { pollIntervalMs: body.pollIntervalMs } : {}),
        });
        if (body.credential)
          credentialSecretId = await storeCredential(services, workspaceId, integrationId, body.credential);
        if (body.saml) saml = await storeSamlMetadata(services, workspaceId, integrationId, body.saml);
      }
      const accepted = await startConnect(
        services,
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
          ...(saml ? { saml } : {}),
          ...(body.pollIntervalMs !== undefined ? { pollIntervalMs: body.pollIntervalMs } : {}),
        },
        fingerprint ? 'join' : 'conflict',
        fingerprint,
      );
      return reply.status(202).send(accepted);
    },
  );
}
