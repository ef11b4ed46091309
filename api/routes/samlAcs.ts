/**
 * SAML assertion consumer service: `POST /v1/oauth/saml/acs` (issue #13, T2, T9).
 *
 * The admin's browser posts the IdP's `SAMLResponse` with our `RelayState` (the one-time connect
 * state) from the IdP's page: a cross-site POST, so the SameSite=Lax consent session cookie is not
 * sent with it. This route therefore decides nothing about the sign-in. It checks the state first
 * (issued by us, for this service, unconsumed, unexpired) and verifies nothing before that; it then
 * stores the response envelope-encrypted (an assertion is personal data: it reaches the connect
 * workflow as a secret id, never in its history) and answers 303 to the OAuth callback, a
 * top-level GET on our side where the browser does present the cookie. There the consent session
 * is checked as for OAuth, and the connect workflow validates the assertion (signature, audience,
 * recipient, InResponseTo, window, replay) and answers whether it signed in.
 */
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { VendorId } from '../../activities/vendors/types';
import { getIntegration } from '../../db/integrations';
import { hashState, OAUTH_STATE_PATTERN, parseOAuthState } from '../../lib/oauth/pkce';
import { HttpProblem, problemResponses } from '../problem';
import type { ApiServices } from '../services';
import { checkOAuthState } from '../store';
import type { Api } from '../types';
import { oauthRedirectUri } from './oauthCallback';

/** A base64 SAMLResponse: signed assertions with a few group claims are a few tens of KB. */
const SAML_RESPONSE_MAX_CHARS = 256 * 1024;
const ACS_BODY_LIMIT = SAML_RESPONSE_MAX_CHARS + 4096;
/** The stored response only has to outlive the redirect to the callback. */
const STORED_RESPONSE_TTL_MS = 5 * 60_000;

const AcsBody = Type.Object(
  {
    SAMLResponse: Type.String({ minLength: 1, maxLength: SAML_RESPONSE_MAX_CHARS, pattern: '^[A-Za-z0-9+/=\\r\\n]+$' }),
    RelayState: Type.String({ pattern: OAUTH_STATE_PATTERN, maxLength: 200 }),
  },
  { additionalProperties: false },
);

export function registerSamlAcsRoute(app: Api, services: ApiServices): void {
  app.register(async (scope) => {
    // The HTTP-POST binding: an HTML form the IdP's page submits (application/x-www-form-urlencoded).
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: ACS_BODY_LIMIT },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    scope.withTypeProvider<TypeBoxTypeProvider>().post(
      '/v1/oauth/saml/acs',
      {
        schema: {
          tags: ['oauth'],
          summary:
            'SAML assertion consumer service (HTTP-POST binding): RelayState-authenticated; stores the response encrypted and redirects (303) to the OAuth callback, where the sign-in completes',
          security: [],
          consumes: ['application/x-www-form-urlencoded'],
          body: AcsBody,
          response: { 303: Type.Null({ description: 'To the callback step' }), ...problemResponses(409) },
        },
        config: { access: { action: 'oauth.saml-acs', permission: 'public' } },
      },
      async (request, reply) => {
        const { SAMLResponse, RelayState } = request.body;
        const bound = parseOAuthState(RelayState);
        if (!bound)
          throw new HttpProblem(400, 'The RelayState is not one this service issued', { errorClass: 'InvalidState' });
        const workspaceId = bound.workspaceId.toLowerCase();
        const integrationId = bound.integrationId.toLowerCase();
        const row = await getIntegration(services.db, workspaceId, integrationId);
        const descriptor = row ? services.vendors.get(row.vendor as VendorId)?.descriptor : undefined;
        const checked =
          row && descriptor?.samlSignIn
            ? await checkOAuthState(services.db, {
                workspaceId,
                integrationId,
                stateHash: hashState(RelayState),
                redirectUri: oauthRedirectUri(services.publicUrl, row.vendor),
              })
            : undefined;
        if (!row || !checked || (!checked.ok && checked.reason !== 'consumed'))
          throw new HttpProblem(400, 'The RelayState is unknown or has expired', { errorClass: 'InvalidState' });
        request.auditFacts.actor = { type: 'vendor', id: row.vendor };
        request.auditFacts.vendor = row.vendor;
        request.auditFacts.workspaceId = workspaceId;
        request.auditFacts.integrationId = integrationId;
        if (!checked.ok)
          throw new HttpProblem(409, 'This sign-in response was already used', { errorClass: 'StateReplayed' });

        const stored = await services.secrets.put({
          workspaceId,
          integrationId,
          kind: 'saml-response',
          state: 'pending',
          plaintext: SAMLResponse.replace(/\s+/g, ''),
          expiresAt: new Date(Date.now() + STORED_RESPONSE_TTL_MS),
        });
        const callback = new URL(oauthRedirectUri(services.publicUrl, row.vendor));
        callback.search = new URLSearchParams({ state: RelayState, samlResponse: stored.secretId }).toString();
        reply.header('cache-control', 'no-store');
        return reply.status(303).header('location', callback.toString()).send(null);
      },
    );
  });
}
