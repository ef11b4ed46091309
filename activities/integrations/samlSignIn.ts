/**
 * SAML 2.0 sign-in at connect (issue #13) for the identity rows that offer it (`samlSignIn`). The
 * API stored the admin's IdP metadata and, later, the posted SAMLResponse as encrypted secrets:
 * the connect workflow holds their ids only, so neither the metadata nor the assertion (personal
 * data) enters its history. Here the worker reads them, builds the AuthnRequest, and validates the
 * response with the shared SAML module and the Postgres replay store. What is kept is opaque: the
 * NameID and group names hashed per IdP (`samlIdentityMetadata`).
 */
import { createSamlAssertionClaims } from '../../db/samlAssertions';
import { SecretNotFoundError } from '../../db/secrets';
import { VendorError, VendorFailureType } from '../vendors/errors';
import {
  parseIdpMetadata,
  samlIdentityMetadata,
  samlSignInUrl,
  validateSamlResponse,
  type SamlIdp,
  type SamlSp,
} from '../vendors/shared/saml';
import {
  asActivity,
  createIntegrationContext,
  promoteIdempotent,
  putPendingTokens,
  type IntegrationRef,
  type ResolvedIntegration,
} from './context';
import type { IntegrationActivityDeps } from './deps';
import type { SamlSignInInput } from '@trackproject/integrations-client/definitions';

/** Our side of a SAML sign-in: the metadata's secret id, our entity id (the audience) and our ACS URL. */
export type { SamlSignInInput };

/** How the API stores the admin's choice: the metadata document itself, or its URL on an allowed host. */
export type StoredSamlMetadata = { xml: string } | { url: string };

export type SamlSignInOutcome = { signedIn: true; grantedScopes: string[] } | { signedIn: false; reason: string };

const spOf = (saml: SamlSignInInput): SamlSp => ({ entityId: saml.entityId, acsUrl: saml.acsUrl });

/** The AuthnRequest step (used inside `beginAuthorization`) and the `completeSamlSignIn` activity. */
export function createSamlSignIn(deps: IntegrationActivityDeps) {
  const context = createIntegrationContext(deps);

  /** The IdP as its metadata describes it now (fetched again when the admin gave a URL: certificates rotate). */
  async function idpOf(resolved: ResolvedIntegration, ref: IntegrationRef, saml: SamlSignInInput): Promise<SamlIdp> {
    const vendor = resolved.row.vendor;
    if (!resolved.descriptor.samlSignIn)
      throw new VendorError(VendorFailureType.VendorRejected, vendor, 'this row does not sign in over SAML');
    const stored = JSON.parse(
      (
        await deps.secrets.read(ref.workspaceId, saml.metadataSecretId, {
          integrationId: ref.integrationId,
          kind: 'saml-idp-metadata',
        })
      ).toString('utf8'),
    ) as StoredSamlMetadata;
    if ('xml' in stored) return parseIdpMetadata(vendor, stored.xml);
    if (!resolved.connector.saml)
      throw new VendorError(VendorFailureType.VendorRejected, vendor, 'SAML metadata by URL is not offered');
    const xml = await resolved.connector.saml.fetchMetadata(vendor, {
      url: stored.url,
      audit: context.auditorFor(ref, vendor),
    });
    return parseIdpMetadata(vendor, xml);
  }

  return {
    /** The IdP's SSO URL with our AuthnRequest (RelayState = the one-time state) and the request's ID. */
    async samlAuthorization(
      resolved: ResolvedIntegration,
      ref: IntegrationRef,
      saml: SamlSignInInput,
      state: string,
    ): Promise<{ url: string; requestId: string }> {
      return samlSignInUrl(await idpOf(resolved, ref, saml), spOf(saml), state);
    },

    /**
     * Validates the posted response the API stored (signed assertion from the metadata's
     * certificates, our audience and ACS, answering `requestId`, inside its window, id never seen
     * in this workspace), then destroys it whatever the outcome. A refusal is an answer, not a
     * failure: the workflow reports it to the browser and fails the connect.
     */
    async completeSamlSignIn(
      input: IntegrationRef & { saml: SamlSignInInput; samlResponseSecretId: string; requestId: string },
    ): Promise<SamlSignInOutcome> {
      return asActivity(async () => {
        const resolved = await context.resolve(input);
        const vendor = resolved.row.vendor;
        let samlResponse: string;
        try {
          samlResponse = (
            await deps.secrets.read(input.workspaceId, input.samlResponseSecretId, {
              integrationId: input.integrationId,
              kind: 'saml-response',
            })
          ).toString('utf8');
        } catch (error) {
          if (error instanceof SecretNotFoundError) return { signedIn: false, reason: 'no SAML response is stored' };
          throw error;
        } finally {
          // This one and any other posted to this sign-in (e.g. one whose callback came from another browser).
          await deps.secrets.destroyOfKind(input.workspaceId, input.integrationId, 'saml-response');
        }
        const idp = await idpOf(resolved, input, input.saml);
        let metadata: Record<string, string>;
        try {
          const identity = await validateSamlResponse(vendor, {
            idp,
            sp: spOf(input.saml),
            samlResponse,
            requestId: input.requestId,
            replay: createSamlAssertionClaims(deps.db, input.workspaceId, idp.entityId),
          });
          metadata = samlIdentityMetadata(idp, identity);
        } catch (error) {
          // The shared module's refusals carry no assertion content (T25): safe to report.
          if (error instanceof VendorError && error.type === VendorFailureType.VendorRejected)
            return { signedIn: false, reason: error.message };
          throw error;
        }
        const grantedScopes = [...resolved.row.requested_scopes];
        // SAML hands over no bearer token: the credential is the signed-in identity's opaque ids only.
        const stored = await putPendingTokens(deps.secrets, input, { accessToken: '', grantedScopes, metadata });
        await promoteIdempotent(deps.secrets, input.workspaceId, stored.secretId);
        // The metadata is the integration's IdP from now on (a reconnect signs in against it again).
        await promoteIdempotent(deps.secrets, input.workspaceId, input.saml.metadataSecretId);
        return { signedIn: true, grantedScopes };
      });
    },
  };
}
