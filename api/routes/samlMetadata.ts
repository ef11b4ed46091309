/**
 * Our SAML service provider metadata: `GET /v1/saml/{vendor}/metadata` (issue #13). The customer's
 * admin uploads it to the IdP (an Okta SAML app, an Entra ID enterprise application) instead of
 * typing our entity id and ACS URL. It is the same document for every workspace (one SP for the
 * service) and holds nothing secret: public, like any SP's metadata. It says what we require:
 * assertions signed by the IdP (`WantAssertionsSigned`), posted to our ACS (HTTP-POST binding), any
 * NameID format. It publishes no key: our AuthnRequests are unsigned, and an encrypted assertion
 * cannot be read (we hold no decryption key), so the IdP must not encrypt assertions.
 */
import { Type } from 'typebox';
import {
  SAML_ACS_BINDING,
  SAML_NAMEID_FORMAT,
  samlAcsUrl,
  samlEntityId,
} from '../../activities/vendors/shared/samlServiceProvider';
import type { VendorId } from '../../activities/vendors/types';
import { HttpProblem, problemResponses } from '../problem';
import type { ApiServices } from '../services';
import type { Api } from '../types';

/** The media type of SAML metadata (SAML 2.0 metadata, section 4.1.1; registered with IANA). */
export const SAML_METADATA_MEDIA_TYPE = 'application/samlmetadata+xml';

const escapeXml = (value: string) =>
  value.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);

/** The SP metadata document for a public base URL. */
export function samlServiceProviderMetadata(publicUrl: string): string {
  return [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${escapeXml(samlEntityId(publicUrl))}">`,
    '  <md:SPSSODescriptor AuthnRequestsSigned="false" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">',
    `    <md:NameIDFormat>${SAML_NAMEID_FORMAT}</md:NameIDFormat>`,
    `    <md:AssertionConsumerService Binding="${SAML_ACS_BINDING}" Location="${escapeXml(samlAcsUrl(publicUrl))}" index="0" isDefault="true"/>`,
    '  </md:SPSSODescriptor>',
    '</md:EntityDescriptor>',
    '',
  ].join('\n');
}

export function registerSamlMetadataRoute(app: Api, services: ApiServices): void {
  app.get(
    '/v1/saml/:vendor/metadata',
    {
      schema: {
        tags: ['oauth'],
        summary:
          'Our SAML service provider metadata for an identity row that signs in with SAML (okta, entra): entity id, ACS URL (HTTP-POST), NameID format, signed assertions required; upload it to the IdP',
        security: [],
        params: Type.Object({ vendor: Type.String({ pattern: '^[a-z0-9-]{1,40}$' }) }),
        response: {
          200: {
            description: 'SAML 2.0 metadata (an EntityDescriptor with one SPSSODescriptor)',
            content: { [SAML_METADATA_MEDIA_TYPE]: { schema: Type.String() } },
          },
          ...problemResponses(404),
        },
      },
      config: { access: { action: 'saml.sp-metadata', permission: 'public' } },
    },
    async (request, reply) => {
      const { vendor } = request.params as { vendor: string };
      if (!services.vendors.get(vendor as VendorId)?.descriptor.samlSignIn)
        throw new HttpProblem(404, `Vendor "${vendor}" does not sign in with SAML`, { errorClass: 'NoSamlSignIn' });
      return reply
        .header('cache-control', 'public, max-age=3600')
        .type(SAML_METADATA_MEDIA_TYPE)
        .send(samlServiceProviderMetadata(services.publicUrl));
    },
  );
}
