/**
 * The authorize hand-off (T2). The vendor's authorize URL carries the OAuth state, and whoever
 * completes it chooses the vendor account the integration connects to. So the API never shows it
 * in a status or connect answer: those carry this route's link, shown to callers who may manage
 * the integration. The route hands the vendor URL to the user who started the consent only, with
 * the consent session cookie the callback requires (`lib/oauth/consentSession.ts`).
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { consentSessionValue, consentSetCookie } from '../../../lib/oauth/consentSession';
import { hashState } from '../../../lib/oauth/pkce';
import type { connectWorkflow } from '../../../workflows/connect';
import { connectStateQuery, workflowIds, type ConnectState } from '../../../workflows/definitions';
import { roleAllows } from '../../auth';
import { callerActor } from '../../guard';
import { HttpProblem, problemResponses } from '../../problem';
import { queryIfRunning } from '../../runs';
import { IntegrationParams } from '../../schemas';
import type { ApiServices } from '../../services';
import { findAwaitedState } from '../../store';
import type { Api } from '../../types';
import { loadIntegration, statusUrl } from './shared';

/** This API's link to the authorize hand-off of an integration's consent in flight. */
export function authorizeLink(services: ApiServices, workspaceId: string, integrationId: string): string {
  return `${services.publicUrl.replace(/\/+$/, '')}${statusUrl(workspaceId, integrationId)}/authorize`;
}

/** Connect progress as a caller may see it: the authorize link only for those who may consent (admins). */
export function presentConnectState(
  services: ApiServices,
  request: FastifyRequest,
  ids: { workspaceId: string; integrationId: string },
  state: ConnectState,
): Omit<ConnectState, 'authorizeUrl' | 'consentUrl'> & { authorizeUrl?: string } {
  // eslint-disable-next-line @typescript-eslint/no-unused-vars -- the vendor URLs stay out of every answer
  const { authorizeUrl, consentUrl, ...rest } = state;
  const mayConsent = request.caller !== undefined && roleAllows(request.caller.role, 'manage');
  return authorizeUrl && mayConsent
    ? { ...rest, authorizeUrl: authorizeLink(services, ids.workspaceId, ids.integrationId) }
    : rest;
}

const Authorize = Type.Object({
  /** The vendor's authorize page: open it in the browser that received the cookie. */
  authorizeUrl: Type.String(),
  expiresAt: Type.String(),
});

export function registerAuthorizeRoute(app: Api, services: ApiServices): void {
  app.get(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/authorize',
    {
      schema: {
        tags: ['integrations'],
        summary:
          "The vendor's authorize URL of a consent in flight, for the user who started it only; sets the HttpOnly consent session cookie the OAuth callback requires (T2)",
        params: IntegrationParams,
        response: { 200: Authorize, ...problemResponses(404, 409) },
      },
      config: { access: { action: 'integration.authorize', permission: 'manage' } },
    },
    async (request, reply) => {
      const { workspaceId, integrationId } = request.params;
      await loadIntegration(services, request, request.params);
      const workflowId = workflowIds.connect(workspaceId, integrationId);
      request.auditFacts.workflowId = workflowId;
      const { temporal } = services;
      const connect = await queryIfRunning(temporal, () =>
        temporal.client.workflow.getHandle<typeof connectWorkflow>(workflowId).query(connectStateQuery),
      );
      // The cookie binds the OAuth state, which the consent URL carries (after an app installation for GitHub).
      const consentUrl = connect?.consentUrl ?? connect?.authorizeUrl;
      // A SAML sign-in carries it as the RelayState of the AuthnRequest.
      const params = consentUrl ? new URL(consentUrl).searchParams : undefined;
      const state = params?.get('state') ?? params?.get('RelayState') ?? null;
      const awaited = state
        ? await findAwaitedState(services.db, { workspaceId, integrationId, stateHash: hashState(state) })
        : undefined;
      if (!state || !awaited)
        throw new HttpProblem(409, 'No consent is awaited for this integration', { errorClass: 'NoConsentAwaited' });
      const caller = callerActor(request);
      const { initiator } = awaited;
      if (!initiator || initiator.type !== caller.type || initiator.id !== caller.id) {
        throw new HttpProblem(
          403,
          'Only the user who started this consent can continue it; reconnect to start your own',
          {
            errorClass: 'NotConsentInitiator',
          },
        );
      }
      const value = consentSessionValue(services.consentSessionKey, hashState(state), initiator);
      reply.header(
        'set-cookie',
        consentSetCookie(integrationId, value, {
          publicUrl: services.publicUrl,
          maxAgeS: (awaited.expiresAt.getTime() - Date.now()) / 1000,
        }),
      );
      // The answer carries the state: never stored by a cache on the way.
      reply.header('cache-control', 'no-store');
      return { authorizeUrl: connect!.authorizeUrl!, expiresAt: awaited.expiresAt.toISOString() };
    },
  );
}
