/**
 * SAML 2.0 sign-in for the identity rows (Okta, Entra ID), on `@node-saml/node-saml`: the IdP's
 * metadata read into its entity id, SSO URL and signing certificates; a posted Response accepted
 * only when its Assertion is signed by one of those certificates, addressed to our entity id
 * (audience) and ACS URL (recipient), within its validity window give or take a bounded clock skew,
 * and its ID never seen before (a replayed assertion is refused). What comes out is the identity
 * row's data in: the subject and the group claims, nothing else of the assertion.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { DOMParser } from '@xmldom/xmldom';
import { SAML, ValidateInResponseTo, type Profile } from '@node-saml/node-saml';
import { classifyHttpStatus, VendorError, VendorFailureType } from '../errors';
import { SAML_NAMEID_FORMAT } from './samlServiceProvider';

/** Clocks of IdP and SP may differ this much; never more (node-saml's default is no skew at all). */
export const SAML_CLOCK_SKEW_MS = 2 * 60_000;
/** An assertion without an expiry of its own is not accepted for longer than this after it was issued. */
export const SAML_MAX_ASSERTION_AGE_MS = 5 * 60_000;

/** IdP metadata is a few KB (one entity, a couple of certificates); anything far larger is refused. */
export const SAML_METADATA_MAX_BYTES = 100_000;

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const DS = 'http://www.w3.org/2000/09/xmldsig#';
const HTTP_REDIRECT = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
/** Attribute names IdPs use for group claims (Okta's default, Entra's claim URI). */
const GROUP_ATTRIBUTES = ['groups', 'http://schemas.microsoft.com/ws/2008/06/identity/claims/groups'];

export interface SamlIdp {
  entityId: string;
  ssoUrl: string;
  /** Base64 DER of each signing certificate the metadata publishes. */
  signingCerts: string[];
}

export interface SamlSp {
  /** Our entity id at this IdP: the audience an assertion must name. */
  entityId: string;
  /** Our ACS URL: the recipient (and destination) an assertion must name. */
  acsUrl: string;
}

/** Remembers assertion ids until they expire; `claim` is false for an id already claimed (a replay). */
export interface SamlReplayStore {
  claim(assertionId: string, expiresAt: Date): Promise<boolean>;
}

export interface SamlIdentity {
  assertionId: string;
  subject: string;
  groups: string[];
}

function refused(vendor: string, reason: string): VendorError {
  return new VendorError(VendorFailureType.VendorRejected, vendor, `SAML ${reason}`);
}

/** The IdP of a metadata document (`EntityDescriptor` with an `IDPSSODescriptor`). */
export function parseIdpMetadata(vendor: string, xml: string): SamlIdp {
  if (Buffer.byteLength(xml) > SAML_METADATA_MAX_BYTES) throw refused(vendor, 'metadata is larger than allowed');
  let doc: ReturnType<DOMParser['parseFromString']>;
  try {
    doc = new DOMParser({ errorHandler: () => undefined }).parseFromString(xml, 'text/xml');
  } catch {
    throw refused(vendor, 'metadata is not XML');
  }
  const entity = doc.getElementsByTagNameNS(MD, 'EntityDescriptor')[0];
  const idp = entity?.getElementsByTagNameNS(MD, 'IDPSSODescriptor')[0];
  const entityId = entity?.getAttribute('entityID');
  if (!entity || !idp || !entityId) throw refused(vendor, 'metadata names no identity provider');
  const sso = Array.from(idp.getElementsByTagNameNS(MD, 'SingleSignOnService')).find(
    (service) => service.getAttribute('Binding') === HTTP_REDIRECT,
  );
  const ssoUrl = sso?.getAttribute('Location');
  const signingCerts = Array.from(idp.getElementsByTagNameNS(MD, 'KeyDescriptor'))
    .filter((key) => (key.getAttribute('use') ?? 'signing') === 'signing')
    .flatMap((key) => Array.from(key.getElementsByTagNameNS(DS, 'X509Certificate')))
    .map((cert) => (cert.textContent ?? '').replace(/\s+/g, ''))
    .filter(Boolean);
  if (!ssoUrl || !/^https?:\/\//.test(ssoUrl)) throw refused(vendor, 'metadata has no HTTP-Redirect sign-on URL');
  if (signingCerts.length === 0) throw refused(vendor, 'metadata publishes no signing certificate');
  return { entityId, ssoUrl, signingCerts };
}

/** The part of a fetch response metadata retrieval reads (global fetch's and undici's both fit). */
export interface MetadataResponse {
  ok: boolean;
  status: number;
  headers: { get(name: string): string | null };
  text(): Promise<string>;
}

/**
 * The metadata document at a URL the row's connector allowed: no redirects (they could leave the
 * allowed hosts), bounded in size, HTTP failures typed as any vendor call's. `get` is the row's
 * HTTP client (a dispatcher trusting its endpoints' CA, for instance).
 */
export async function fetchSamlMetadata(
  vendor: string,
  url: URL,
  get: (url: URL, init: { redirect: 'error'; headers: Record<string, string> }) => Promise<MetadataResponse> = fetch,
): Promise<string> {
  const response = await get(url, {
    redirect: 'error',
    headers: { accept: 'application/samlmetadata+xml, text/xml' },
  });
  if (!response.ok)
    throw classifyHttpStatus(vendor, response.status, 'SAML metadata unavailable', response.headers.get('retry-after'));
  const declared = Number(response.headers.get('content-length') ?? 0);
  const body = declared > SAML_METADATA_MAX_BYTES ? '' : await response.text();
  if (!body || Buffer.byteLength(body) > SAML_METADATA_MAX_BYTES)
    throw refused(vendor, 'metadata is empty or larger than allowed');
  return body;
}

function samlFor(idp: SamlIdp, sp: SamlSp): SAML {
  return new SAML({
    entryPoint: idp.ssoUrl,
    idpIssuer: idp.entityId,
    idpCert: idp.signingCerts,
    issuer: sp.entityId,
    audience: sp.entityId,
    callbackUrl: sp.acsUrl,
    wantAssertionsSigned: true,
    // As our SP metadata says (node-saml would ask for an e-mail address).
    identifierFormat: SAML_NAMEID_FORMAT,
    // IdPs sign the assertion (Okta by default) and may or may not sign the envelope around it.
    wantAuthnResponseSigned: false,
    acceptedClockSkewMs: SAML_CLOCK_SKEW_MS,
    maxAssertionAgeMs: SAML_MAX_ASSERTION_AGE_MS,
    // The Response's own InResponseTo is outside the assertion's signature: the signed
    // SubjectConfirmationData's is checked instead (`confirmation`), against the request we sent.
    validateInResponseTo: ValidateInResponseTo.never,
    signatureAlgorithm: 'sha256',
  });
}

/**
 * The SP-initiated sign-in: the IdP's SSO URL with a deflated AuthnRequest and our state as
 * RelayState, and the request's ID, which the response's signed assertion must answer (InResponseTo).
 */
export async function samlSignInUrl(
  idp: SamlIdp,
  sp: SamlSp,
  relayState: string,
): Promise<{ url: string; requestId: string }> {
  const url = await samlFor(idp, sp).getAuthorizeUrlAsync(relayState, undefined, {});
  const request = new URL(url).searchParams.get('SAMLRequest') ?? '';
  const requestId = /\sID="([^"]+)"/.exec(zlib.inflateRawSync(Buffer.from(request, 'base64')).toString('utf8'))?.[1];
  if (!requestId) throw refused('saml', 'AuthnRequest has no ID');
  return { url, requestId };
}

type XmlNode = { $?: Record<string, string>; _?: string } & Record<string, unknown>;
const children = (node: unknown, name: string): XmlNode[] =>
  ((node as Record<string, unknown> | undefined)?.[name] as XmlNode[] | undefined) ?? [];

/**
 * What node-saml does not check: the signed assertion is for our ACS (Recipient), answers our
 * AuthnRequest (InResponseTo), and says until when it holds.
 */
function confirmation(profile: Profile, sp: SamlSp, requestId: string): { assertionId?: string; expiresAt?: Date } {
  const assertion = (profile.getAssertion?.() as { Assertion?: XmlNode } | undefined)?.Assertion;
  const confirmations = children(children(assertion, 'Subject')[0], 'SubjectConfirmation').flatMap((c) =>
    children(c, 'SubjectConfirmationData'),
  );
  if (!confirmations.some((data) => data.$?.Recipient === sp.acsUrl && data.$?.InResponseTo === requestId)) return {};
  const notOnOrAfter = [
    children(assertion, 'Conditions')[0]?.$?.NotOnOrAfter,
    ...confirmations.map((data) => data.$?.NotOnOrAfter),
  ]
    .filter((value): value is string => typeof value === 'string')
    .map((value) => Date.parse(value))
    .filter((ms) => !Number.isNaN(ms));
  const issuedAt = Date.parse(assertion?.$?.IssueInstant ?? '');
  const expiresMs = notOnOrAfter.length > 0 ? Math.min(...notOnOrAfter) : issuedAt + SAML_MAX_ASSERTION_AGE_MS;
  return {
    assertionId: assertion?.$?.ID,
    expiresAt: Number.isNaN(expiresMs) ? undefined : new Date(expiresMs + SAML_CLOCK_SKEW_MS),
  };
}

/**
 * Validates a posted `SAMLResponse` (base64). Every refusal is the same typed failure, without the
 * library's message (it may quote the assertion); the replay check runs last, only for assertions
 * that passed every other check, so a forgery cannot burn a genuine assertion's id.
 */
export async function validateSamlResponse(
  vendor: string,
  input: { idp: SamlIdp; sp: SamlSp; samlResponse: string; requestId: string; replay: SamlReplayStore },
): Promise<SamlIdentity> {
  const { profile } = await samlFor(input.idp, input.sp)
    .validatePostResponseAsync({ SAMLResponse: input.samlResponse })
    .catch(() => {
      throw refused(vendor, 'response failed verification');
    });
  if (!profile || profile.issuer !== input.idp.entityId || !profile.nameID)
    throw refused(vendor, 'response failed verification');
  const { assertionId, expiresAt } = confirmation(profile, input.sp, input.requestId);
  if (!assertionId || !expiresAt) throw refused(vendor, 'assertion is not for this service');
  if (!(await input.replay.claim(assertionId, expiresAt))) throw refused(vendor, 'assertion was already used');
  const groups = GROUP_ATTRIBUTES.flatMap((name) => {
    const value = profile[name];
    return Array.isArray(value) ? value : value === undefined ? [] : [value];
  }).filter((group): group is string => typeof group === 'string');
  return { assertionId, subject: profile.nameID, groups };
}

/**
 * What an identity row keeps of a SAML sign-in: the NameID and group names hashed with the IdP's
 * entity id (a NameID is often an e-mail address; group names are the org's own, often personal,
 * vocabulary), stable per IdP so the workspace can map them without us storing them.
 */
export function samlIdentityMetadata(idp: SamlIdp, identity: SamlIdentity): Record<string, string> {
  const opaque = (value: string) =>
    crypto.createHash('sha256').update(`${idp.entityId}\n${value}`).digest('base64url').slice(0, 22);
  return {
    protocol: 'saml',
    idp: idp.entityId,
    subject: opaque(identity.subject),
    groups: identity.groups.map(opaque).join(','),
  };
}

/** Whether a stored credential is a SAML sign-in's (opaque identity, no bearer token at the IdP). */
export function isSamlCredential(credential: { metadata?: Record<string, string> }): boolean {
  return credential.metadata?.protocol === 'saml';
}

/** What disconnect can do for a SAML sign-in: SAML grants us nothing at the IdP to revoke. */
export const SAML_REVOCATION_NOTE =
  'A SAML sign-in holds no token at the identity provider (nothing to revoke there); the kept identity ids and the IdP metadata are destroyed here.';

/** Replay store of one process (tests, single worker); the worker's is Postgres-backed. */
export function createInMemorySamlReplayStore(now: () => number = Date.now): SamlReplayStore {
  const seen = new Map<string, number>();
  return {
    async claim(assertionId, expiresAt) {
      for (const [id, until] of seen) if (until <= now()) seen.delete(id);
      if (seen.has(assertionId)) return false;
      seen.set(assertionId, expiresAt.getTime());
      return true;
    },
  };
}
