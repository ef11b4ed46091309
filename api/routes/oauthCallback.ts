/**
 * OAuth redirect target: `GET /v1/oauth/callback/{vendor}?state=…&code=…` (T2, T5), and the step
 * a SAML sign-in is redirected to from the ACS (`samlAcs.ts`: `?state=…&samlResponse=<stored id>`).
 *
 * The caller is a browser coming back from the vendor, without a bearer token: the `state` is the
 * credential. It starts with `<workspaceId>.<integrationId>.`, so the API binds that workspace and
 * then finds the state's SHA-256 under RLS (no cross-workspace lookup), checks it is unconsumed,
 * unexpired and issued for exactly this redirect URI, checks the browser presents the consent
 * session cookie of the user who started the consent (T2, `lib/oauth/consentSession.ts`), and only
 * then hands the code to the connect workflow as an Update, naming that user as the one who
 * consented; the workflow consumes the state atomically (one-time) and its validation answer
 * reaches the caller.
 */
import { Type } from 'typebox';
import type { VendorId } from '../../activities/vendors/types';
import { consentCookieName, consentSetCookie, isConsentSession, readCookie } from '../../lib/oauth/consentSession';
import { hashState, OAUTH_STATE_PATTERN, parseOAuthState } from '../../lib/oauth/pkce';
import { oauthCallbackUpdate } from '../../workflows/definitions';
import { HttpProblem, problemResponses } from '../problem';
import { runLinks, temporalCall } from '../runs';
import { RunAccepted, Uuid, VendorIdSchema } from '../schemas';
import type { ApiServices } from '../services';
import { checkOAuthState } from '../store';
import type { Api } from '../types';

/** The one redirect URI registered with each vendor: the exact-match check compares against it. */
export function oauthRedirectUri(publicUrl: string, vendor: string): string {
  return `${publicUrl.replace(/\/+$/, '')}/v1/oauth/callback/${vendor}`;
}

const CallbackQuery = Type.Object({
  /** Exactly as issued (`createOAuthState`): anything else is no state of ours, refused before any lookup. */
  state: Type.String({ pattern: OAUTH_STATE_PATTERN, maxLength: 200 }),
  code: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  /** SAML sign-in: the id under which the ACS route stored the posted response (it 303-redirects here). */
  samlResponse: Type.Optional(Uuid),
  /** RFC 6749 §4.1.2.1 error code, e.g. `access_denied`. */
  error: Type.Optional(Type.String({ pattern: '^[\\x20-\\x21\\x23-\\x5b\\x5d-\\x7e]{1,100}$' })),
  error_description: Type.Optional(Type.String({ maxLength: 1000 })),
});

export function registerOAuthCallbackRoute(app: Api, services: ApiServices): void {
  app.get(
    '/v1/oauth/callback/:vendor',
    {
      schema: {
        tags: ['oauth'],
        summary: 'OAuth authorization-code redirect target (state-authenticated, one-time)',
        security: [],
        params: Type.Object({ vendor: VendorIdSchema }),
        querystring: CallbackQuery,
        response: { 200: RunAccepted, ...problemResponses(404, 409, 422) },
      },
      config: { access: { action: 'oauth.callback', permission: 'public' } },
    },
    async (request, reply) => {
      const { vendor } = request.params;
      const { state, code, error, samlResponse } = request.query;
      if (!services.vendors.has(vendor as VendorId)) throw new HttpProblem(404, `Unknown vendor "${vendor}"`);
      request.auditFacts.actor = { type: 'vendor', id: vendor };
      request.auditFacts.vendor = vendor;
      if (!code && !error && !samlResponse) {
        throw new HttpProblem(400, 'The callback carries neither code nor error', {
          errors: [{ pointer: '/querystring/code', detail: 'required unless error is present' }],
        });
      }
      const bound = parseOAuthState(state);
      if (!bound)
        throw new HttpProblem(400, 'The state is not one this service issued', { errorClass: 'InvalidState' });

      const stateHash = hashState(state);
      const checked = await checkOAuthState(services.db, {
        workspaceId: bound.workspaceId.toLowerCase(),
        integrationId: bound.integrationId.toLowerCase(),
        stateHash,
        redirectUri: oauthRedirectUri(services.publicUrl, vendor),
      });
      if (!checked.ok && checked.reason === 'unknown')
        throw new HttpProblem(400, 'The state is unknown or has expired', { errorClass: 'InvalidState' });
      // The state row exists: the workspace is known, every outcome from here is audited in it.
      request.auditFacts.workspaceId = bound.workspaceId.toLowerCase();
      request.auditFacts.integrationId = bound.integrationId.toLowerCase();
      if (!checked.ok) {
        if (checked.reason === 'consumed')
          throw new HttpProblem(409, 'This authorization response was already used', { errorClass: 'StateReplayed' });
        if (checked.reason === 'expired')
          throw new HttpProblem(400, 'The state is unknown or has expired', { errorClass: 'StateExpired' });
        throw new HttpProblem(400, 'The state was issued for a different redirect URI', {
          errorClass: 'RedirectMismatch',
        });
      }

      const cookie = consentCookieName(checked.integrationId);
      const session = readCookie(request.headers.cookie, cookie);
      if (!checked.initiator || !isConsentSession(services.consentSessionKey, stateHash, checked.initiator, session)) {
        throw new HttpProblem(403, 'Complete the consent in the browser session of the user who started it', {
          errorClass: 'ConsentSessionMismatch',
        });
      }

      request.auditFacts.workflowId = checked.workflowId;
      const handle = services.temporal.client.workflow.getHandle(checked.workflowId);
      await temporalCall(services.temporal, () =>
        handle.executeUpdate(oauthCallbackUpdate, {
          args: [
            {
              state,
              ...(code ? { code } : {}),
              ...(error ? { error } : {}),
              ...(samlResponse ? { samlResponseSecretId: samlResponse } : {}),
              consentedBy: checked.initiator,
            },
          ],
        }),
      );
      // The state is used: its session cookie has nothing left to bind.
      reply.header(
        'set-cookie',
        consentSetCookie(checked.integrationId, '', { publicUrl: services.publicUrl, maxAgeS: 0 }),
      );
      return {
        integrationId: checked.integrationId,
        workflowId: checked.workflowId,
        status: error ? 'denied' : 'accepted',
        links: runLinks(services.temporal, checked.workflowId),
      };
    },
  );
}
