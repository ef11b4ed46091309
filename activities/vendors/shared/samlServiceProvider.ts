/**
 * What we are as a SAML service provider, SDK-free (the API publishes it in our SP metadata; the
 * sign-in asks for it in every AuthnRequest): one for the whole service, whichever IdP.
 */

/**
 * The NameID format we ask for: any the IdP's app is set up with. We keep only a hash of the NameID
 * (`samlIdentityMetadata`), so no format (least of all an e-mail address) is needed.
 */
export const SAML_NAMEID_FORMAT = 'urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified';
/** The binding our assertion consumer service accepts: the IdP's page POSTs the form. */
export const SAML_ACS_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';

const base = (publicUrl: string) => publicUrl.replace(/\/+$/, '');

/** Our SP entity id: the Audience every accepted assertion names (one for the service, every IdP). */
export function samlEntityId(publicUrl: string): string {
  return `${base(publicUrl)}/v1/oauth/saml`;
}

/** Our ACS URL: the Recipient and Destination every accepted assertion names. */
export function samlAcsUrl(publicUrl: string): string {
  return `${base(publicUrl)}/v1/oauth/saml/acs`;
}
