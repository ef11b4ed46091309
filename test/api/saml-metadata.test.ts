/**
 * Our SAML service provider metadata (issue #13): `GET /v1/saml/{vendor}/metadata` parsed as SAML
 * 2.0 metadata, checked against what the SAML library the sign-in runs on would publish for the same
 * SP, and against the AuthnRequest the sign-in actually sends: what an admin uploads to the IdP is
 * what the service asks for and accepts.
 */
import zlib from 'node:zlib';
import { DOMParser } from '@xmldom/xmldom';
import { SAML as NodeSaml } from '@node-saml/node-saml';
import { samlSignInUrl } from '../../activities/vendors/shared/saml';
import { SAML_METADATA_MEDIA_TYPE } from '../../api/routes/samlMetadata';
import { createHarness, PUBLIC_URL, type Harness } from './support/harness';

const MD = 'urn:oasis:names:tc:SAML:2.0:metadata';
const SAMLP = 'urn:oasis:names:tc:SAML:2.0:protocol';
const ASSERTION = 'urn:oasis:names:tc:SAML:2.0:assertion';

/** The parts of an SP metadata document an IdP reads. */
function readSpMetadata(xml: string) {
  const errors: string[] = [];
  const doc = new DOMParser({
    errorHandler: (level, message) => void errors.push(`${level}: ${message}`),
  }).parseFromString(xml, 'text/xml');
  const root = doc.documentElement;
  const sp = root.getElementsByTagNameNS(MD, 'SPSSODescriptor')[0];
  const within = (name: string) => (sp ? Array.from(sp.getElementsByTagNameNS(MD, name)) : []);
  return {
    errors,
    root: `${root.namespaceURI} ${root.localName}`,
    entityId: root.getAttribute('entityID'),
    protocols: sp?.getAttribute('protocolSupportEnumeration'),
    wantAssertionsSigned: sp?.getAttribute('WantAssertionsSigned'),
    authnRequestsSigned: sp?.getAttribute('AuthnRequestsSigned'),
    nameIdFormats: within('NameIDFormat').map((e) => e.textContent),
    acs: within('AssertionConsumerService').map((e) => ({
      binding: e.getAttribute('Binding'),
      location: e.getAttribute('Location'),
    })),
    keys: within('KeyDescriptor').length,
  };
}

describe('SAML service provider metadata', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => h.close());

  const entityId = `${PUBLIC_URL}/v1/oauth/saml`;
  const acsUrl = `${PUBLIC_URL}/v1/oauth/saml/acs`;

  it.each(['okta', 'entra'])(
    'T9 [%s]: GET /v1/saml/%s/metadata is SAML 2.0 metadata naming our entity id, our ACS (HTTP-POST) and signed assertions, with no token needed',
    async (vendor) => {
      const response = await h.app.inject({ method: 'GET', url: `/v1/saml/${vendor}/metadata` });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toContain(SAML_METADATA_MEDIA_TYPE);
      expect(readSpMetadata(response.body)).toEqual({
        errors: [],
        root: `${MD} EntityDescriptor`,
        entityId,
        protocols: SAMLP,
        wantAssertionsSigned: 'true',
        authnRequestsSigned: 'false',
        nameIdFormats: ['urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified'],
        acs: [{ binding: 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST', location: acsUrl }],
        // Unsigned AuthnRequests, and no decryption key: IdPs must sign assertions, not encrypt them.
        keys: 0,
      });
    },
  );

  it('T9: it says what the SAML library of the sign-in publishes for the same SP, and what every AuthnRequest asks for', async () => {
    const ours = readSpMetadata((await h.app.inject({ method: 'GET', url: '/v1/saml/okta/metadata' })).body);
    const library = readSpMetadata(
      new NodeSaml({
        issuer: entityId,
        callbackUrl: acsUrl,
        idpCert: 'unused',
        wantAssertionsSigned: true,
        identifierFormat: ours.nameIdFormats[0]!,
      }).generateServiceProviderMetadata(null),
    );
    for (const field of ['root', 'entityId', 'protocols', 'wantAssertionsSigned', 'nameIdFormats', 'acs'] as const)
      expect(ours[field]).toEqual(library[field]);

    const { url } = await samlSignInUrl(
      { entityId: 'http://www.okta.com/exk1', ssoUrl: 'https://acme.okta.com/app/x/sso/saml', signingCerts: [] },
      { entityId: ours.entityId!, acsUrl: ours.acs[0]!.location! },
      'relay',
    );
    const authnRequest = new DOMParser().parseFromString(
      zlib.inflateRawSync(Buffer.from(new URL(url).searchParams.get('SAMLRequest')!, 'base64')).toString('utf8'),
      'text/xml',
    ).documentElement;
    expect(authnRequest.getAttribute('AssertionConsumerServiceURL')).toBe(acsUrl);
    expect(authnRequest.getAttribute('ProtocolBinding') ?? ours.acs[0]!.binding).toBe(ours.acs[0]!.binding);
    expect(authnRequest.getElementsByTagNameNS(ASSERTION, 'Issuer')[0]!.textContent).toBe(entityId);
    expect(authnRequest.getElementsByTagNameNS(SAMLP, 'NameIDPolicy')[0]!.getAttribute('Format')).toBe(
      ours.nameIdFormats[0],
    );
  });

  it('rows that do not sign in with SAML, and unknown or malformed vendors, get problem+json', async () => {
    for (const [vendor, status] of [
      ['github', 404],
      ['procore', 404],
      ['no-such-vendor', 404],
      ['Okta%20', 400],
    ] as const) {
      const response = await h.app.inject({ method: 'GET', url: `/v1/saml/${vendor}/metadata` });
      expect(response.statusCode).toBe(status);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
  });

  it('is documented in the OpenAPI reference with its media type', async () => {
    const spec = (await h.app.inject({ method: 'GET', url: '/openapi.json' })).json();
    const operation = spec.paths['/v1/saml/{vendor}/metadata'].get;
    expect(Object.keys(operation.responses['200'].content)).toEqual([SAML_METADATA_MEDIA_TYPE]);
    expect(operation.security).toEqual([]);
    expect(Object.keys(operation.responses)).toEqual(expect.arrayContaining(['200', '404']));
  });
});
