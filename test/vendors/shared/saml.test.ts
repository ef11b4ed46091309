/**
 * The shared SAML 2.0 sign-in (activities/vendors/shared/saml.ts, on @node-saml/node-saml) against
 * responses signed by the emulators' IdP signer, for both identity rows that offer SAML: only a
 * valid signed assertion for our audience and ACS, inside its validity window, and not seen before,
 * signs in.
 */
import {
  createInMemorySamlReplayStore,
  parseIdpMetadata,
  samlSignInUrl,
  validateSamlResponse,
  type SamlReplayStore,
  type SamlSp,
} from '../../../activities/vendors/shared/saml';
import { createSamlSigningIdp, type SamlSigningIdp } from '../../../emulators/shared/samlIdp';

const ROWS = [
  {
    row: 'okta',
    entityId: 'http://www.okta.com/exk1trackproject0x7',
    ssoUrl: 'https://acme.okta.com/app/acme_trackproject_1/exk1trackproject0x7/sso/saml',
  },
  {
    row: 'entra',
    entityId: 'https://sts.windows.net/9188040d-6c67-4c5b-b112-36a304b66dad/',
    ssoUrl: 'https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/saml2',
  },
] as const;

describe.each(ROWS)('SAML sign-in [$row]', ({ row, entityId, ssoUrl }) => {
  const sp: SamlSp = {
    entityId: 'https://api.trackproject.example/v1/saml/metadata',
    acsUrl: `https://api.trackproject.example/v1/saml/acs/${row}`,
  };
  let idp: SamlSigningIdp;
  let replay: SamlReplayStore;
  const requestId = '_a1b2c3d4e5f6';
  const genuine = () => ({
    audience: sp.entityId,
    acsUrl: sp.acsUrl,
    subject: '00u1a2b3c4',
    groups: ['Site Managers'],
    inResponseTo: requestId,
  });
  const validate = (samlResponse: string) =>
    validateSamlResponse(row, {
      idp: parseIdpMetadata(row, idp.metadataXml()),
      sp,
      samlResponse,
      requestId,
      replay,
    });
  const refusal = (samlResponse: string) =>
    validate(samlResponse).then(
      () => 'signed in',
      (error: { type?: string; message: string }) => `${error.type}: ${error.message}`,
    );

  beforeAll(async () => {
    idp = await createSamlSigningIdp({ entityId, ssoUrl });
  });
  beforeEach(() => {
    replay = createInMemorySamlReplayStore();
  });

  test(`T9 T18 [${row}]: the IdP metadata gives its entity id, redirect sign-on URL and signing certificate; the sign-in URL carries an AuthnRequest and our state`, async () => {
    const parsed = parseIdpMetadata(row, idp.metadataXml());
    expect(parsed).toEqual({ entityId, ssoUrl, signingCerts: [expect.stringMatching(/^MII[A-Za-z0-9+/=]+$/)] });
    const signIn = await samlSignInUrl(parsed, sp, 'state-123');
    const url = new URL(signIn.url);
    expect(`${url.origin}${url.pathname}`).toBe(ssoUrl);
    expect(signIn.requestId).toMatch(/^_[0-9a-f]+$/);
    expect(url.searchParams.get('SAMLRequest')).toBeTruthy();
    expect(url.searchParams.get('RelayState')).toBe('state-123');
    expect(() => parseIdpMetadata(row, '<EntityDescriptor/>')).toThrow(/names no identity provider/);
    expect(() => parseIdpMetadata(row, 'not xml')).toThrow(/SAML/);
  });

  test(`T9 T19 [${row}]: a valid signed assertion signs in with the subject and the group claims only`, async () => {
    const { samlResponse, assertionId } = idp.response(genuine());
    expect(await validate(samlResponse)).toEqual({ assertionId, subject: '00u1a2b3c4', groups: ['Site Managers'] });
  });

  test(`T9 T18 [${row}]: a tampered, an unsigned, a replayed, a wrong-audience, a wrong-recipient, an unsolicited or other request's and an expired assertion are refused`, async () => {
    const replayed = idp.response(genuine());
    expect(await refusal(replayed.samlResponse)).toBe('signed in');
    const cases = {
      tampered: idp.response({ ...genuine(), tamperedSubject: '00uADMIN' }).samlResponse,
      unsigned: idp.response({ ...genuine(), unsigned: true }).samlResponse,
      replayed: replayed.samlResponse,
      'replayed under a new response': idp.response({ ...genuine(), assertionId: replayed.assertionId }).samlResponse,
      'wrong audience': idp.response({ ...genuine(), audience: 'https://other-sp.example/metadata' }).samlResponse,
      'wrong recipient': idp.response({ ...genuine(), acsUrl: 'https://other-sp.example/acs' }).samlResponse,
      'answering another request': idp.response({ ...genuine(), inResponseTo: '_another' }).samlResponse,
      'IdP-initiated': idp.response({ ...genuine(), inResponseTo: undefined }).samlResponse,
      // Expired by more than the bounded clock skew (2 min).
      expired: idp.response({ ...genuine(), expiredSecondsAgo: 3 * 60 }).samlResponse,
      'signed by another IdP': (await createSamlSigningIdp({ entityId, ssoUrl })).response(genuine()).samlResponse,
      'not SAML': Buffer.from('<html/>').toString('base64'),
    };
    const outcomes = Object.fromEntries(
      await Promise.all(Object.entries(cases).map(async ([name, response]) => [name, await refusal(response)])),
    );
    expect(outcomes).toEqual({
      tampered: `VendorRejected: ${row}: SAML response failed verification`,
      unsigned: `VendorRejected: ${row}: SAML response failed verification`,
      replayed: `VendorRejected: ${row}: SAML assertion was already used`,
      'replayed under a new response': `VendorRejected: ${row}: SAML assertion was already used`,
      'wrong audience': `VendorRejected: ${row}: SAML response failed verification`,
      'wrong recipient': `VendorRejected: ${row}: SAML assertion is not for this service`,
      'answering another request': `VendorRejected: ${row}: SAML assertion is not for this service`,
      'IdP-initiated': `VendorRejected: ${row}: SAML assertion is not for this service`,
      expired: `VendorRejected: ${row}: SAML response failed verification`,
      'signed by another IdP': `VendorRejected: ${row}: SAML response failed verification`,
      'not SAML': `VendorRejected: ${row}: SAML response failed verification`,
    });
    // Refusals never quote the assertion (personal data, T25).
    for (const outcome of Object.values(outcomes)) expect(outcome).not.toMatch(/00u|Site Managers/);
  });

  test(`T18 [${row}]: an assertion within the bounded clock skew is accepted, one a refused forgery carried is not burnt`, async () => {
    expect(await refusal(idp.response({ ...genuine(), expiredSecondsAgo: 60 }).samlResponse)).toBe('signed in');
    const { samlResponse, assertionId } = idp.response(genuine());
    // A forgery reusing a genuine assertion's id is refused before the id is claimed: the genuine one still signs in.
    expect(await refusal(idp.response({ ...genuine(), assertionId, unsigned: true }).samlResponse)).toMatch(
      /failed verification/,
    );
    expect(await refusal(samlResponse)).toBe('signed in');
  });
});
