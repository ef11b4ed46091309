/**
 * Consent and controls (T17, T18): narrow the scopes, change the customer controls, re-consent
 * (reconnect) or replace a service-account credential. Narrowing talks to the running lifecycle;
 * re-consent starts a connect run that leaves the working connection alone until it succeeds.
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { VendorDescriptor } from '../../../activities/vendors/types';
import type { IntegrationRow } from '../../../db/integrations';
import { scopesOutside } from '../../../lib/scopes';
import { consentChangeUpdate, workflowIds, type ConnectInput } from '../../../workflows/definitions';
import { callerActor } from '../../guard';
import { HttpProblem, problemResponses } from '../../problem';
import { runLinks, temporalCall } from '../../runs';
import { absentBodyIsEmpty, ControlsSchema, IntegrationParams, ScopeSchema } from '../../schemas';
import type { ApiServices } from '../../services';
import type { Api } from '../../types';
import { oauthRedirectUri } from '../oauthCallback';
import { assertRedirect, samlSignInWith, startConnect, storeCredential } from './connect';
import { Accepted, CredentialSchema, writeResponses } from './schemas';
import {
  assertControls,
  assertCredentialPolicy,
  isEstablished,
  lifecycleOf,
  loadIntegration,
  statusUrl,
} from './shared';
import { descriptorOf } from './vendor';

export function registerConsentRoutes(app: Api, services: ApiServices): void {
  const consentAccepted = (workspaceId: string, integrationId: string) => {
    const workflowId = workflowIds.lifecycle(workspaceId, integrationId);
    return {
      integrationId,
      workflowId,
      status: 'accepted',
      links: { ...runLinks(services.temporal, workflowId), status: statusUrl(workspaceId, integrationId) },
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
      const { row, lifecycle } = await lifecycleOf(services, request, request.params);
      const scopes = request.body.scopes;
      const current = row.granted_scopes.length > 0 ? row.granted_scopes : row.requested_scopes;
      const broadening = scopesOutside(scopes, current).map(({ scope, index }) => ({
        pointer: `/body/scopes/${index}`,
        detail: `"${scope}" is not currently granted`,
      }));
      if (broadening.length > 0)
        throw new HttpProblem(422, 'Scopes can only be narrowed here; reconnect to request more', {
          errors: broadening,
        });
      request.auditFacts.workflowId = lifecycle.workflowId;
      await temporalCall(services.temporal, () =>
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
      const { row, lifecycle } = await lifecycleOf(services, request, request.params);
      assertControls(descriptorOf(services, row.vendor, '/vendor'), request.body.controls, '/body/controls');
      request.auditFacts.workflowId = lifecycle.workflowId;
      await temporalCall(services.temporal, () =>
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
        summary:
          'Reconnect (re-consent) with the recorded scopes and the recorded or a new selection of controls (widening one needs this consent); joins a reconnect in flight',
        params: IntegrationParams,
        body: Type.Object(
          {
            redirectUri: Type.Optional(Type.String({ format: 'uri', maxLength: 2048 })),
            controls: Type.Optional(ControlsSchema),
          },
          { additionalProperties: false },
        ),
        response: writeResponses,
      },
      preValidation: absentBodyIsEmpty,
      config: { access: { action: 'integration.reconnect', permission: 'manage' } },
    },
    async (request, reply) => {
      const row = await loadIntegration(services, request, request.params);
      const descriptor = descriptorOf(services, row.vendor, '/vendor');
      if (descriptor.authKind === 'service-account') {
        throw new HttpProblem(
          422,
          'Service-account integrations reconnect by posting a new credential to …/credentials',
        );
      }
      const redirectUri = assertRedirect(services, descriptor.id, request.body.redirectUri);
      const controls = request.body.controls;
      if (controls) assertControls(descriptor, controls, '/body/controls');
      // An integration that signed in over SAML signs in again against the same IdP metadata.
      const samlMetadata = descriptor.samlSignIn
        ? await services.secrets.current(row.workspace_id, row.integration_id, 'saml-idp-metadata')
        : undefined;
      const accepted = await startConnect(
        services,
        request,
        {
          ...reconsentInput(request, request.params, row, descriptor, redirectUri),
          ...(controls ? { controls } : {}),
          ...(samlMetadata ? { saml: samlSignInWith(services, samlMetadata.secretId) } : {}),
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
      const row = await loadIntegration(services, request, request.params);
      const descriptor = descriptorOf(services, row.vendor, '/vendor');
      assertCredentialPolicy(descriptor, request.body.credential);
      const credentialSecretId = await storeCredential(services, workspaceId, integrationId, request.body.credential);
      const redirectUri = oauthRedirectUri(services.publicUrl, descriptor.id);
      const accepted = await startConnect(
        services,
        request,
        { ...reconsentInput(request, request.params, row, descriptor, redirectUri), credentialSecretId },
        'conflict',
      );
      return reply.status(202).send(accepted);
    },
  );
}

/** A new consent for an existing integration: its current scopes and controls, by the caller, joining what it had. */
function reconsentInput(
  request: FastifyRequest,
  ids: { workspaceId: string; integrationId: string },
  row: IntegrationRow,
  descriptor: VendorDescriptor,
  redirectUri: string,
): ConnectInput {
  return {
    ...ids,
    vendor: descriptor.id,
    requestedScopes: row.requested_scopes,
    controls: row.controls,
    redirectUri,
    actor: callerActor(request),
    reconnect: isEstablished(row),
  };
}
