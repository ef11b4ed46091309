/**
 * SAML 2.0 sign-in at connect (issue #13) through the real API, the real connect workflow on the
 * dev server, the SAML apps of the Okta and Entra ID emulators and Postgres: the admin connects with the org's IdP
 * metadata, follows the authorize hand-off to the IdP's SSO endpoint, the browser posts the signed
 * response to our ACS, which stores it encrypted and 303-redirects to the callback step where the
 * consent session cookie is checked and the workflow validates the assertion. Only a valid signed
 * assertion signs in; tampered, unsigned, replayed, wrong-audience and expired ones are refused
 * with problem+json, the integration is not active and nothing of the sign-in is kept.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import type { Worker } from '@temporalio/worker';
import { Agent, fetch as undiciFetch } from 'undici';
import { microsoftDescriptors } from '../../activities/vendors/microsoft';
import { createMicrosoftConnector } from '../../activities/vendors/microsoft/connector';
import { OKTA_MATRIX_SCOPE, oktaDescriptor } from '../../activities/vendors/okta';
import { createOktaConnector } from '../../activities/vendors/okta/connector';
import type { VendorId } from '../../activities/vendors/types';
import { startMicrosoftEmulator, type MicrosoftEmulator } from '../../emulators/microsoft';
import { startOktaEmulator, type OktaEmulator } from '../../emulators/okta';
import type { SamlAssertionOptions } from '../../emulators/shared/samlIdp';
import { workflowIds } from '../../workflows/definitions';
import { devServer, testWorker } from '../support/temporal';
import { createVendorHarness, type VendorHarness } from '../workflows/support/harness';
import { pollUntil } from '../workflows/support/workflowHelpers';
import { bearer, createHarness, PUBLIC_URL, type Harness } from './support/harness';

const SP = { audience: `${PUBLIC_URL}/v1/oauth/saml`, acsUrl: `${PUBLIC_URL}/v1/oauth/saml/acs` };
const PROBLEM = 'application/problem+json';
const ENTRA_USER = {
  id: 'entra-user-1',
  displayName: 'Ada Site-Manager',
  mail: 'ada@contoso.example',
  groups: ['5f1c…sites'],
};

/** One identity row's IdP as the test drives it: where its SAML app lives and what it would post. */
interface SamlRow {
  vendor: VendorId;
  scopes: string[];
  idpEntityId: string;
  metadataUrl: string;
  ssoUrl: string;
  /** What must never be stored: the NameID and the group names as the IdP sends them. */
  personal: string[];
  groups: number;
  samlResponse(departures: Partial<SamlAssertionOptions>): { samlResponse: string };
  /** The browser's GET (the Microsoft emulator serves https with a test CA). */
  get(url: URL | string): Promise<{ status: number; text(): Promise<string> }>;
}

function oktaRow(okta: OktaEmulator): SamlRow {
  return {
    vendor: 'okta',
    scopes: [OKTA_MATRIX_SCOPE],
    idpEntityId: 'http://www.okta.com/exk1trackproject0x7',
    metadataUrl: okta.samlMetadataUrl,
    ssoUrl: `${okta.url}/app/trackproject/exk1trackproject0x7/sso/saml`,
    personal: [okta.user.login, ...okta.user.groups],
    groups: okta.user.groups.length,
    samlResponse: (departures) => okta.control.samlResponse(departures),
    get: (url) => fetch(url),
  };
}

function entraRow(microsoft: MicrosoftEmulator, dispatcher: Agent): SamlRow {
  return {
    vendor: 'entra',
    scopes: [...microsoftDescriptors.entra.scopes.required],
    idpEntityId: `https://sts.windows.net/${microsoft.tenantId}/`,
    metadataUrl: microsoft.samlMetadataUrl,
    ssoUrl: `${microsoft.url}/${microsoft.tenantId}/saml2`,
    personal: [ENTRA_USER.mail, ...ENTRA_USER.groups],
    groups: ENTRA_USER.groups.length,
    samlResponse: (departures) => microsoft.control.samlResponse(departures),
    get: (url) => undiciFetch(url, { dispatcher }),
  };
}

describe('SAML sign-in at connect (API, connect workflow, Okta and Entra ID SAML app emulators, Postgres)', () => {
  let h: Harness;
  let worker: VendorHarness;
  let okta: OktaEmulator;
  let microsoft: MicrosoftEmulator;
  let dispatcher: Agent;
  const rows = new Map<VendorId, SamlRow>();
  let server: Awaited<ReturnType<typeof devServer>>;
  let running: Worker;
  let runningDone: Promise<void>;
  const ws = crypto.randomUUID();
  let admin: Record<string, string>;

  beforeAll(async () => {
    const key = crypto.randomBytes(32);
    [h, okta, microsoft, server] = await Promise.all([
      createHarness({ secretsKey: key }),
      startOktaEmulator({ saml: SP }),
      startMicrosoftEmulator({ saml: SP, user: ENTRA_USER }),
      devServer(),
    ]);
    dispatcher = new Agent({ connect: { ca: microsoft.caCert } });
    rows.set('okta', oktaRow(okta));
    rows.set('entra', entraRow(microsoft, dispatcher));
    const microsoftConnector = createMicrosoftConnector({
      clientId: microsoft.clientId,
      clientSecret: microsoft.clientSecret,
      tenantId: microsoft.tenantId,
      graphBaseUrl: microsoft.url,
      loginBaseUrl: microsoft.url,
      caCert: microsoft.caCert,
    });
    worker = createVendorHarness(
      [
        { descriptor: oktaDescriptor, connector: createOktaConnector({ orgDomains: ['127.0.0.1'], allowHttp: true }) },
        { descriptor: microsoftDescriptors.entra, connector: microsoftConnector },
      ],
      { key },
    );
    running = await testWorker({
      connection: server.connection,
      taskQueue: h.taskQueue,
      activities: worker.activities,
    });
    runningDone = running.run();
    await h.su('workspaces').insert({ workspace_id: ws });
    admin = bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'admin-1' }));
  }, 120_000);
  afterAll(async () => {
    await h?.close();
    running?.shutdown();
    await runningDone;
    await server?.close();
    await worker?.close();
    await okta?.stop();
    await microsoft?.stop();
    await dispatcher?.close();
  });

  /** Connect with SAML, then the authorize hand-off: the IdP's SSO URL and the consent session cookie. */
  async function beginSignIn(vendor: VendorId, saml: { metadataXml: string } | { metadataUrl: string }) {
    const connected = await h.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${ws}/integrations`,
      headers: admin,
      payload: { vendor, saml },
    });
    expect(connected.statusCode).toBe(202);
    return handoff((connected.json() as { integrationId: string }).integrationId);
  }

  /** The authorize hand-off of the consent in flight: the IdP's SSO URL, the cookie, the AuthnRequest's ID. */
  async function handoff(integrationId: string) {
    const answer = await pollUntil(
      () =>
        h.app.inject({
          method: 'GET',
          url: `/v1/workspaces/${ws}/integrations/${integrationId}/authorize`,
          headers: admin,
        }),
      (response) => response.statusCode === 200,
    );
    const ssoUrl = new URL(answer.json().authorizeUrl as string);
    const cookie = String(answer.headers['set-cookie']).split(';')[0]!;
    const authnRequest = zlib
      .inflateRawSync(Buffer.from(ssoUrl.searchParams.get('SAMLRequest')!, 'base64'))
      .toString('utf8');
    return { integrationId, ssoUrl, cookie, requestId: /\sID="([^"]+)"/.exec(authnRequest)![1]! };
  }

  /** What the browser does with the IdP's auto-submitting form: POST to the ACS, follow the 303 with its cookies. */
  async function postToAcs(vendor: VendorId, form: { SAMLResponse: string; RelayState: string }, cookie: string) {
    const acs = await h.app.inject({
      method: 'POST',
      url: '/v1/oauth/saml/acs',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(form).toString(),
    });
    expect(acs.statusCode).toBe(303);
    const location = new URL(acs.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(`${PUBLIC_URL}/v1/oauth/callback/${vendor}`);
    // The assertion never travels in the redirect: only the id it is stored under.
    expect(location.search).not.toContain(form.SAMLResponse.slice(0, 40));
    return h.app.inject({ method: 'GET', url: `${location.pathname}${location.search}`, headers: { cookie } });
  }

  async function ssoForm(row: SamlRow, ssoUrl: URL): Promise<{ SAMLResponse: string; RelayState: string }> {
    const page = await row.get(ssoUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`action="${SP.acsUrl}"`);
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)![1]!;
    return { SAMLResponse: field('SAMLResponse'), RelayState: field('RelayState').replace(/&amp;/g, '&') };
  }

  const connectResult = (integrationId: string) =>
    server.client.workflow.getHandle(workflowIds.connect(ws, integrationId)).result();
  const secretsOf = (integrationId: string) => h.su('secrets').where({ integration_id: integrationId });
  describe.each(['okta', 'entra'] as const)('[%s]', (vendor) => {
    let genuine: { SAMLResponse: string; assertionId: string } | undefined;
    const row = () => rows.get(vendor)!;

    it(`T9 T1 T2 T4 T17 T19 [${vendor}]: a valid signed assertion signs in through the ACS and the callback step; the integration goes active keeping opaque ids only, signs in again on reconnect, and disconnect destroys them`, async () => {
      const { integrationId, ssoUrl, cookie } = await beginSignIn(vendor, { metadataUrl: row().metadataUrl });
      // SP-initiated at the org's SAML app, our one-time state as the RelayState.
      expect(`${ssoUrl.origin}${ssoUrl.pathname}`).toBe(row().ssoUrl);
      const form = await ssoForm(row(), ssoUrl);
      expect(form.RelayState).toBe(ssoUrl.searchParams.get('RelayState'));

      const callback = await postToAcs(vendor, form, cookie);
      expect(callback.statusCode).toBe(200);
      expect(await connectResult(integrationId)).toMatchObject({
        status: 'connected',
        grantedScopes: row().scopes,
      });
      const integration = await h.su('integrations').where({ integration_id: integrationId }).first();
      expect(integration.status).toBe('connected');

      // T9, T19: the kept identity is the IdP and hashes of NameID and groups; no login or group name.
      const tokens = await worker.secrets.current(ws, integrationId, 'oauth-tokens');
      const stored = JSON.parse((await worker.secrets.read(ws, tokens!.secretId)).toString('utf8'));
      expect(stored).toMatchObject({
        accessToken: '',
        grantedScopes: row().scopes,
        metadata: { protocol: 'saml', idp: row().idpEntityId },
      });
      expect(stored.metadata.subject).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(stored.metadata.groups.split(',')).toHaveLength(row().groups);
      for (const personal of row().personal) expect(JSON.stringify(stored)).not.toContain(personal);
      // The posted response was destroyed once validated; the metadata is the integration's IdP from now on.
      const secrets = await secretsOf(integrationId);
      expect(secrets.filter((s) => s.kind === 'saml-response').map((s) => [s.state, s.ciphertext])).toEqual([
        ['destroyed', null],
      ]);
      expect(secrets.find((s) => s.kind === 'saml-idp-metadata')?.state).toBe('current');
      // T2: the ledger names the admin whose browser session completed the sign-in.
      const ledger = await h.su('consent_events').where({ integration_id: integrationId });
      expect(ledger.map((entry) => [entry.action, entry.actor_id, entry.scopes])).toEqual([
        ['granted', 'admin-1', row().scopes],
      ]);

      // T17: a reconnect signs in again against the integration's IdP metadata.
      const reconnect = await h.app.inject({
        method: 'POST',
        url: `/v1/workspaces/${ws}/integrations/${integrationId}/reconnect`,
        headers: admin,
      });
      expect(reconnect.statusCode).toBe(202);
      const again = await handoff(integrationId);
      expect(`${again.ssoUrl.origin}${again.ssoUrl.pathname}`).toBe(row().ssoUrl);
      expect((await postToAcs(vendor, await ssoForm(row(), again.ssoUrl), again.cookie)).statusCode).toBe(200);
      expect(await connectResult(integrationId)).toMatchObject({ status: 'connected' });
      const actions = await h
        .su('consent_events')
        .where({ integration_id: integrationId })
        .orderBy('id')
        .pluck('action');
      expect(actions).toEqual(['granted', 'reauthorized']);

      // T4: SAML left no token at the org; disconnect says so and destroys the identity and the metadata.
      const disconnected = await server.client.workflow.execute('disconnectWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: workflowIds.disconnect(ws, integrationId),
        args: [{ workspaceId: ws, integrationId, actor: { type: 'user', id: 'admin-1' }, purgeDelayMs: 1_000 }],
      });
      expect(disconnected).toMatchObject({ revokedAtVendor: false });
      const after = await secretsOf(integrationId);
      expect(after.every((s) => s.state === 'destroyed' && s.ciphertext === null)).toBe(true);
      const response = Buffer.from(form.SAMLResponse, 'base64').toString('utf8');
      genuine = {
        SAMLResponse: form.SAMLResponse,
        assertionId: /<saml2:Assertion [^>]*ID="([^"]+)"/.exec(response)![1]!,
      };
    }, 90_000);

    it(`T9 T18 [${vendor}]: metadata that names no IdP, or a metadata URL off the row's allowed hosts, fails the connect before any sign-in starts; an OAuth-only row refuses SAML`, async () => {
      const attempts = [
        { metadataXml: '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>' },
        { metadataUrl: 'https://metadata.attacker.example/saml/metadata' },
      ];
      const failures = [];
      for (const saml of attempts) {
        const connected = await h.app.inject({
          method: 'POST',
          url: `/v1/workspaces/${ws}/integrations`,
          headers: admin,
          payload: { vendor, saml },
        });
        expect(connected.statusCode).toBe(202);
        const { integrationId } = connected.json() as { integrationId: string };
        failures.push((await connectResult(integrationId)).failure);
        expect(await h.su('oauth_states').where({ integration_id: integrationId })).toEqual([]);
      }
      expect(failures).toEqual(['VendorRejected', 'OutsideCustomerControls']);
      const oauthOnly = await h.app.inject({
        method: 'POST',
        url: `/v1/workspaces/${ws}/integrations`,
        headers: admin,
        payload: { vendor: 'jira', saml: attempts[0] },
      });
      expect(oauthOnly.statusCode).toBe(422);
      expect(oauthOnly.headers['content-type']).toContain(PROBLEM);
    }, 90_000);

    const departures: Array<[string, (requestId: string) => string]> = [
      [
        'tampered assertion',
        (inResponseTo) =>
          row().samlResponse({ inResponseTo, tamperedSubject: 'someone.else@customer.example' }).samlResponse,
      ],
      ['unsigned assertion', (inResponseTo) => row().samlResponse({ inResponseTo, unsigned: true }).samlResponse],
      ["the first sign-in's response replayed", () => genuine!.SAMLResponse],
      [
        'a used assertion id in a new response',
        (inResponseTo) => row().samlResponse({ inResponseTo, assertionId: genuine!.assertionId }).samlResponse,
      ],
      [
        'assertion for another audience',
        (inResponseTo) => row().samlResponse({ inResponseTo, audience: 'https://other-sp.example/saml' }).samlResponse,
      ],
      [
        'expired assertion',
        (inResponseTo) =>
          row().samlResponse({ inResponseTo, expiredSecondsAgo: 3 * 60 } satisfies Partial<SamlAssertionOptions>)
            .samlResponse,
      ],
    ];

    test.each(departures)(
      `T9 [${vendor}]: refused with problem+json (%s); the integration is not active and nothing of the sign-in is kept`,
      async (_name, departure) => {
        expect(genuine).toBeDefined();
        const claimsBefore = await h.su('saml_assertion_ids').where({ workspace_id: ws }).count('* as n').first();
        const { integrationId, ssoUrl, cookie, requestId } = await beginSignIn(vendor, {
          metadataXml: await (await row().get(row().metadataUrl)).text(),
        });
        const callback = await postToAcs(
          vendor,
          { SAMLResponse: departure(requestId), RelayState: ssoUrl.searchParams.get('RelayState')! },
          cookie,
        );
        expect(callback.statusCode).toBe(422);
        expect(callback.headers['content-type']).toContain(PROBLEM);
        const problem = callback.json();
        expect(problem.code).toBe('SamlResponseRefused');
        for (const personal of row().personal) expect(JSON.stringify(problem)).not.toContain(personal);

        expect(await connectResult(integrationId)).toEqual({ status: 'failed', failure: 'SamlResponseRefused' });
        const integration = await h.su('integrations').where({ integration_id: integrationId }).first();
        expect(integration.status).toBe('failed');
        // Nothing kept: no identity, every secret of the attempt destroyed, no assertion id claimed.
        const secrets = await secretsOf(integrationId);
        expect(secrets.filter((s) => s.kind === 'oauth-tokens')).toEqual([]);
        expect(secrets.every((s) => s.state === 'destroyed' && s.ciphertext === null)).toBe(true);
        const claimsAfter = await h.su('saml_assertion_ids').where({ workspace_id: ws }).count('* as n').first();
        expect(claimsAfter).toEqual(claimsBefore);
      },
      90_000,
    );

    it(`T2 [${vendor}]: the ACS checks the RelayState before anything else and stores nothing for one it did not issue; the callback step needs the consent session cookie, and no posted response outlives the sign-in`, async () => {
      const storedResponses = () =>
        h.su('secrets').where({ workspace_id: ws, kind: 'saml-response' }).count('* as n').first();
      const before = await storedResponses();
      const unknown = `${ws}.${crypto.randomUUID()}.${crypto.randomBytes(32).toString('base64url')}`;
      const stray = await h.app.inject({
        method: 'POST',
        url: '/v1/oauth/saml/acs',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ SAMLResponse: genuine!.SAMLResponse, RelayState: unknown }).toString(),
      });
      expect(stray.statusCode).toBe(400);
      expect(stray.headers['content-type']).toContain(PROBLEM);
      expect(await storedResponses()).toEqual(before);

      const { integrationId, ssoUrl } = await beginSignIn(vendor, { metadataUrl: row().metadataUrl });
      const withoutCookie = await postToAcs(vendor, await ssoForm(row(), ssoUrl), 'tp_other=1');
      expect(withoutCookie.statusCode).toBe(403);
      const responses = () =>
        h.su('secrets').where({ integration_id: integrationId, kind: 'saml-response' }).pluck('state');
      expect(await responses()).toEqual(['pending']);
      expect((await h.su('integrations').where({ integration_id: integrationId }).first()).status).toBe('pending');
      // The initiator's browser then completes it: no posted response outlives the sign-in.
      const { cookie } = await handoff(integrationId);
      expect((await postToAcs(vendor, await ssoForm(row(), ssoUrl), cookie)).statusCode).toBe(200);
      expect(await connectResult(integrationId)).toMatchObject({ status: 'connected' });
      expect(await responses()).toEqual(['destroyed', 'destroyed']);
    }, 90_000);
  });
});
