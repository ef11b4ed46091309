/**
 * A SAML 2.0 identity provider's signing side, shared by the IdP emulators (Okta's SAML app, Entra
 * ID's enterprise application): its metadata (entity id, HTTP-Redirect SSO URL, X.509 signing
 * certificate) and Responses whose Assertion carries the subject, the SP's audience and ACS
 * recipient, a validity window and the group attribute, signed with RSA-SHA256 over exclusive
 * c14n as IdPs do (xml-crypto, enveloped signature after the assertion's Issuer). Tests ask for the
 * departures a relying party must refuse: tampered, unsigned, wrong audience or recipient, expired.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { generate } from 'selfsigned';
import { SignedXml } from 'xml-crypto';
import type { EmulatorRouter, EmulatorRequest, EmulatorResponse } from './http';

export interface SamlAssertionOptions {
  /** Our SP's entity id as the IdP has it configured (the audience). */
  audience: string;
  /** Our ACS URL (recipient and destination). */
  acsUrl: string;
  subject: string;
  groups: string[];
  /** Departures from a genuine response. */
  unsigned?: boolean;
  /** Signed, then a value inside changed (the signature no longer matches). */
  tamperedSubject?: string;
  /** Valid until this many seconds ago. */
  expiredSecondsAgo?: number;
  /** The same assertion id as a response issued before (a replay of a captured assertion). */
  assertionId?: string;
  /** The ID of the AuthnRequest this response answers (absent: IdP-initiated). */
  inResponseTo?: string;
}

export interface SamlSigningIdp {
  entityId: string;
  ssoUrl: string;
  certificatePem: string;
  metadataXml(): string;
  /** A base64 `SAMLResponse` as the browser posts it to the ACS, and the assertion's id. */
  response(options: SamlAssertionOptions): { samlResponse: string; assertionId: string };
}

const ASSERTION_LIFETIME_S = 5 * 60;
const C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';

const escapeXml = (value: string) =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const certBody = (pem: string) => pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '');
const samlId = () => `id${crypto.randomBytes(16).toString('hex')}`;

export async function createSamlSigningIdp(options: { entityId: string; ssoUrl: string }): Promise<SamlSigningIdp> {
  const pems = await generate([{ name: 'commonName', value: new URL(options.entityId).hostname || 'idp' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notBeforeDate: new Date(Date.now() - 60_000),
    notAfterDate: new Date(Date.now() + 24 * 60 * 60_000),
  });

  function assertionXml(opts: SamlAssertionOptions, id: string): string {
    const now =
      Date.now() - (opts.expiredSecondsAgo !== undefined ? (ASSERTION_LIFETIME_S + opts.expiredSecondsAgo) * 1000 : 0);
    const issued = new Date(now).toISOString();
    const notBefore = new Date(now - 30_000).toISOString();
    const notOnOrAfter = new Date(now + ASSERTION_LIFETIME_S * 1000).toISOString();
    const inResponseTo = opts.inResponseTo ? ` InResponseTo="${escapeXml(opts.inResponseTo)}"` : '';
    const groups = opts.groups
      .map((group) => `<saml2:AttributeValue xsi:type="xs:string">${escapeXml(group)}</saml2:AttributeValue>`)
      .join('');
    return (
      `<saml2:Assertion xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" ID="${id}" IssueInstant="${issued}" Version="2.0">` +
      `<saml2:Issuer Format="urn:oasis:names:tc:SAML:2.0:nameid-format:entity">${escapeXml(options.entityId)}</saml2:Issuer>` +
      `<saml2:Subject><saml2:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">${escapeXml(opts.subject)}</saml2:NameID>` +
      `<saml2:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml2:SubjectConfirmationData${inResponseTo} NotOnOrAfter="${notOnOrAfter}" Recipient="${escapeXml(opts.acsUrl)}"/></saml2:SubjectConfirmation></saml2:Subject>` +
      `<saml2:Conditions NotBefore="${notBefore}" NotOnOrAfter="${notOnOrAfter}"><saml2:AudienceRestriction><saml2:Audience>${escapeXml(opts.audience)}</saml2:Audience></saml2:AudienceRestriction></saml2:Conditions>` +
      `<saml2:AuthnStatement AuthnInstant="${issued}" SessionIndex="${id}"><saml2:AuthnContext><saml2:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml2:AuthnContextClassRef></saml2:AuthnContext></saml2:AuthnStatement>` +
      `<saml2:AttributeStatement><saml2:Attribute Name="groups" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">${groups}</saml2:Attribute></saml2:AttributeStatement>` +
      `</saml2:Assertion>`
    );
  }

  function sign(xml: string): string {
    const signer = new SignedXml({
      privateKey: pems.private,
      publicCert: pems.cert,
      signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
      canonicalizationAlgorithm: C14N,
    });
    signer.addReference({
      xpath: "//*[local-name(.)='Assertion']",
      digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
      transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', C14N],
    });
    signer.computeSignature(xml, {
      prefix: 'ds',
      location: { reference: "//*[local-name(.)='Assertion']/*[local-name(.)='Issuer']", action: 'after' },
    });
    return signer.getSignedXml();
  }

  return {
    entityId: options.entityId,
    ssoUrl: options.ssoUrl,
    certificatePem: pems.cert,
    metadataXml: () =>
      `<?xml version="1.0" encoding="UTF-8"?>` +
      `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${escapeXml(options.entityId)}">` +
      `<md:IDPSSODescriptor WantAuthnRequestsSigned="false" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">` +
      `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:X509Data><ds:X509Certificate>${certBody(pems.cert)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
      `<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>` +
      `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="${escapeXml(options.ssoUrl)}"/>` +
      `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${escapeXml(options.ssoUrl)}"/>` +
      `</md:IDPSSODescriptor></md:EntityDescriptor>`,
    response(opts) {
      const assertionId = opts.assertionId ?? samlId();
      let assertion = assertionXml(opts, assertionId);
      if (!opts.unsigned) assertion = sign(assertion);
      if (opts.tamperedSubject !== undefined)
        assertion = assertion.replace(
          `>${escapeXml(opts.subject)}</saml2:NameID>`,
          `>${escapeXml(opts.tamperedSubject)}</saml2:NameID>`,
        );
      const xml =
        `<saml2p:Response xmlns:saml2p="urn:oasis:names:tc:SAML:2.0:protocol" Destination="${escapeXml(opts.acsUrl)}"${opts.inResponseTo ? ` InResponseTo="${escapeXml(opts.inResponseTo)}"` : ''} ID="${samlId()}" IssueInstant="${new Date().toISOString()}" Version="2.0">` +
        `<saml2:Issuer xmlns:saml2="urn:oasis:names:tc:SAML:2.0:assertion">${escapeXml(options.entityId)}</saml2:Issuer>` +
        `<saml2p:Status><saml2p:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></saml2p:Status>` +
        assertion +
        `</saml2p:Response>`;
      return { samlResponse: Buffer.from(xml, 'utf8').toString('base64'), assertionId };
    },
  };
}

/** The service provider as the IdP admin configured it in the SAML app: its entity id and ACS URL. */
export interface SamlServiceProvider {
  audience: string;
  acsUrl: string;
}

/**
 * An IdP's SAML app for one SP and one signed-in user: the metadata document and the SP-initiated
 * HTTP-Redirect SSO endpoint. The AuthnRequest must come from the configured SP (Issuer) and ask
 * for its configured ACS; the answer is the HTTP-POST binding's auto-submitting form carrying a
 * signed Response that answers the request (InResponseTo) and returns the RelayState untouched.
 */
export function createSamlApp(options: {
  idp: SamlSigningIdp;
  sp: SamlServiceProvider;
  user: { subject: string; groups: string[] };
}) {
  const { idp, sp, user } = options;
  const badRequest = (reason: string): EmulatorResponse => ({
    status: 400,
    headers: { 'content-type': 'text/html; charset=utf-8' },
    body: `<html><body><h1>Sign-in failed</h1><p>${escapeXml(reason)}</p></body></html>`,
  });
  return {
    metadata: (): EmulatorResponse => ({
      status: 200,
      headers: { 'content-type': 'application/samlmetadata+xml' },
      body: idp.metadataXml(),
    }),
    sso(request: EmulatorRequest): EmulatorResponse {
      const encoded = request.query.get('SAMLRequest');
      if (!encoded) return badRequest('No SAMLRequest.');
      let authnRequest: string;
      try {
        authnRequest = zlib.inflateRawSync(Buffer.from(encoded, 'base64')).toString('utf8');
      } catch {
        return badRequest('The SAMLRequest is not a deflated AuthnRequest.');
      }
      const requestId = /\sID="([^"]+)"/.exec(authnRequest)?.[1];
      const issuer = /<(?:\w+:)?Issuer[^>]*>([^<]+)</.exec(authnRequest)?.[1];
      const acs = /\sAssertionConsumerServiceURL="([^"]+)"/.exec(authnRequest)?.[1];
      if (!requestId || !authnRequest.includes('AuthnRequest')) return badRequest('Not an AuthnRequest.');
      if (issuer !== sp.audience) return badRequest('The requesting service provider is not configured.');
      if (acs !== undefined && acs !== sp.acsUrl) return badRequest('The ACS URL is not the one configured.');
      const { samlResponse } = idp.response({ ...sp, ...user, inResponseTo: requestId });
      const relayState = request.query.get('RelayState') ?? '';
      return {
        status: 200,
        headers: { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' },
        body:
          `<html><body onload="document.forms[0].submit()"><form method="POST" action="${escapeXml(sp.acsUrl)}">` +
          `<input type="hidden" name="SAMLResponse" value="${samlResponse}"/>` +
          `<input type="hidden" name="RelayState" value="${escapeXml(relayState)}"/>` +
          `</form></body></html>`,
      };
    },
  };
}

/**
 * An IdP emulator's SAML app on its router: metadata and SSO routes answer `notFound` until the
 * app is started (its SSO URL is on the emulator's origin, known once the server listens); tests
 * get Responses with departures for the configured SP and user from `samlResponse`.
 */
export function mountSamlApp(paths: { metadata: string; sso: string }, notFound: EmulatorResponse) {
  let mounted: { idp: SamlSigningIdp; app: ReturnType<typeof createSamlApp>; sp: SamlServiceProvider } | undefined;
  let user: { subject: string; groups: string[] } = { subject: '', groups: [] };
  return {
    register(router: EmulatorRouter): void {
      router
        .on('GET', paths.metadata, () => mounted?.app.metadata() ?? notFound)
        .on('GET', paths.sso, (request) => mounted?.app.sso(request) ?? notFound);
    },
    async start(options: {
      entityId: string;
      ssoUrl: string;
      sp: SamlServiceProvider;
      user: { subject: string; groups: string[] };
    }): Promise<void> {
      const idp = await createSamlSigningIdp({ entityId: options.entityId, ssoUrl: options.ssoUrl });
      user = options.user;
      mounted = { idp, sp: options.sp, app: createSamlApp({ idp, sp: options.sp, user }) };
    },
    /** A Response as the SSO endpoint would post it, with the departures a test asks for. */
    samlResponse(departures: Partial<SamlAssertionOptions>): { samlResponse: string; assertionId: string } {
      if (!mounted) throw new Error('the emulated IdP has no SAML app (option saml)');
      return mounted.idp.response({ ...mounted.sp, ...user, ...departures });
    },
  };
}
