/**
 * SAML 2.0 sign-in at connect (issue #13) through the real API, the real connect workflow on the
 * dev server, the Okta emulator's SAML app and Postgres: the admin connects with the org's IdP
 * metadata, follows the authorize hand-off to the IdP's SSO endpoint, the browser posts the signed
 * response to our ACS, which stores it encrypted and 303-redirects to the callback step where the
 * consent session cookie is checked and the workflow validates the assertion. Only a valid signed
 * assertion signs in; tampered, unsigned, replayed, wrong-audience and expired ones are refused
 * with problem+json, the integration is not active and nothing of the sign-in is kept.
 */
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import type { Worker } from '@temporalio/worker';
import { OKTA_MATRIX_SCOPE, oktaDescriptor } from '../../activities/vendors/okta';
import { createOktaConnector } from '../../activities/vendors/okta/connector';
import { startOktaEmulator, type OktaEmulator } from '../../emulators/okta';
import type { SamlAssertionOptions } from '../../emulators/shared/samlIdp';
import { workflowIds } from '../../workflows/definitions';
import { devServer, testWorker } from '../support/temporal';
import { createVendorHarness, type VendorHarness } from '../workflows/support/harness';
import { pollUntil } from '../workflows/support/workflowHelpers';
import { bearer, createHarness, PUBLIC_URL, type Harness } from './support/harness';

const SP = { audience: `${PUBLIC_URL}/v1/oauth/saml`, acsUrl: `${PUBLIC_URL}/v1/oauth/saml/acs` };
const PROBLEM = 'application/problem+json';

describe('SAML sign-in at connect [okta] (API, connect workflow, Okta SAML app emulator, Postgres)', () => {
  let h: Harness;
  let worker: VendorHarness;
  let okta: OktaEmulator;
  let server: Awaited<ReturnType<typeof devServer>>;
  let running: Worker;
  let runningDone: Promise<void>;
  const ws = crypto.randomUUID();
  let admin: Record<string, string>;

  beforeAll(async () => {
    const key = crypto.randomBytes(32);
    [h, okta, server] = await Promise.all([
      createHarness({ secretKey: key }),
      startOktaEmulator({ saml: SP }),
      devServer(),
    ]);
    worker = createVendorHarness(
      [{ descriptor: oktaDescriptor, connector: createOktaConnector({ orgDomains: ['127.0.0.1'], allowHttp: true }) }],
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
  });

  /** Connect with SAML, then the authorize hand-off: the IdP's SSO URL and the consent session cookie. */
  async function beginSignIn(saml: { metadataXml: string } | { metadataUrl: string }) {
    const connected = await h.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${ws}/integrations`,
      headers: admin,
      payload: { vendor: 'okta', saml },
    });
    expect(connected.statusCode).toBe(202);
    const { integrationId } = connected.json() as { integrationId: string };
    const handoff = await pollUntil(
      () =>
        h.app.inject({
          method: 'GET',
          url: `/v1/workspaces/${ws}/integrations/${integrationId}/authorize`,
          headers: admin,
        }),
      (response) => response.statusCode === 200,
    );
    const ssoUrl = new URL(handoff.json().authorizeUrl as string);
    const cookie = String(handoff.headers['set-cookie']).split(';')[0]!;
    const authnRequest = zlib
      .inflateRawSync(Buffer.from(ssoUrl.searchParams.get('SAMLRequest')!, 'base64'))
      .toString('utf8');
    return { integrationId, ssoUrl, cookie, requestId: /\sID="([^"]+)"/.exec(authnRequest)![1]! };
  }

  /** What the browser does with the IdP's auto-submitting form: POST to the ACS, follow the 303 with its cookies. */
  async function postToAcs(form: { SAMLResponse: string; RelayState: string }, cookie: string) {
    const acs = await h.app.inject({
      method: 'POST',
      url: '/v1/oauth/saml/acs',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams(form).toString(),
    });
    expect(acs.statusCode).toBe(303);
    const location = new URL(acs.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe(`${PUBLIC_URL}/v1/oauth/callback/okta`);
    // The assertion never travels in the redirect: only the id it is stored under.
    expect(location.search).not.toContain(form.SAMLResponse.slice(0, 40));
    return h.app.inject({ method: 'GET', url: `${location.pathname}${location.search}`, headers: { cookie } });
  }

  async function ssoForm(ssoUrl: URL): Promise<{ SAMLResponse: string; RelayState: string }> {
    const page = await fetch(ssoUrl);
    expect(page.status).toBe(200);
    const html = await page.text();
    expect(html).toContain(`action="${SP.acsUrl}"`);
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)![1]!;
    return { SAMLResponse: field('SAMLResponse'), RelayState: field('RelayState').replace(/&amp;/g, '&') };
  }

  const connectResult = (integrationId: string) =>
    server.client.workflow.getHandle(workflowIds.connect(ws, integrationId)).result();
  const secretsOf = (integrationId: string) => h.su('secrets').where({ integration_id: integrationId });
  let genuine: { SAMLResponse: string; assertionId: string } | undefined;

  it('T9 T1 T2 T4 T19 [okta]: a valid signed assertion signs in through the ACS and the callback step; the integration goes active keeping opaque ids only, and disconnect destroys them', async () => {
    const { integrationId, ssoUrl, cookie } = await beginSignIn({ metadataUrl: okta.samlMetadataUrl });
    // SP-initiated at the org's SAML app, our one-time state as the RelayState.
    expect(`${ssoUrl.origin}${ssoUrl.pathname}`).toBe(`${okta.url}/app/trackproject/exk1trackproject0x7/sso/saml`);
    const form = await ssoForm(ssoUrl);
    expect(form.RelayState).toBe(ssoUrl.searchParams.get('RelayState'));

    const callback = await postToAcs(form, cookie);
    expect(callback.statusCode).toBe(200);
    expect(await connectResult(integrationId)).toMatchObject({
      status: 'connected',
      grantedScopes: [OKTA_MATRIX_SCOPE],
    });
    const row = await h.su('integrations').where({ integration_id: integrationId }).first();
    expect(row.status).toBe('connected');

    // T9, T19: the kept identity is the IdP and hashes of NameID and groups; no login or group name.
    const tokens = await worker.secrets.current(ws, integrationId, 'oauth-tokens');
    const stored = JSON.parse((await worker.secrets.read(ws, tokens!.secretId)).toString('utf8'));
    expect(stored).toMatchObject({
      accessToken: '',
      grantedScopes: [OKTA_MATRIX_SCOPE],
      metadata: { protocol: 'saml', idp: 'http://www.okta.com/exk1trackproject0x7' },
    });
    expect(stored.metadata.subject).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(stored.metadata.groups.split(',')).toHaveLength(okta.user.groups.length);
    for (const personal of [okta.user.login, ...okta.user.groups])
      expect(JSON.stringify(stored)).not.toContain(personal);
    // The posted response was destroyed once validated; the metadata is the integration's IdP from now on.
    const secrets = await secretsOf(integrationId);
    expect(secrets.filter((s) => s.kind === 'saml-response').map((s) => [s.state, s.ciphertext])).toEqual([
      ['destroyed', null],
    ]);
    expect(secrets.find((s) => s.kind === 'saml-idp-metadata')?.state).toBe('current');
    // T2: the ledger names the admin whose browser session completed the sign-in.
    const ledger = await h.su('consent_events').where({ integration_id: integrationId });
    expect(ledger.map((entry) => [entry.action, entry.actor_id, entry.scopes])).toEqual([
      ['granted', 'admin-1', [OKTA_MATRIX_SCOPE]],
    ]);

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

  const departures: Array<[string, (requestId: string) => string]> = [
    [
      'tampered assertion',
      (inResponseTo) =>
        okta.control.samlResponse({ inResponseTo, tamperedSubject: 'ceo@customer.example' }).samlResponse,
    ],
    ['unsigned assertion', (inResponseTo) => okta.control.samlResponse({ inResponseTo, unsigned: true }).samlResponse],
    ["the first sign-in's response replayed", () => genuine!.SAMLResponse],
    [
      'a used assertion id in a new response',
      (inResponseTo) => okta.control.samlResponse({ inResponseTo, assertionId: genuine!.assertionId }).samlResponse,
    ],
    [
      'assertion for another audience',
      (inResponseTo) =>
        okta.control.samlResponse({ inResponseTo, audience: 'https://other-sp.example/saml' }).samlResponse,
    ],
    [
      'expired assertion',
      (inResponseTo) =>
        okta.control.samlResponse({ inResponseTo, expiredSecondsAgo: 3 * 60 } satisfies Partial<SamlAssertionOptions>)
          .samlResponse,
    ],
  ];

  test.each(departures)(
    'T9 [okta]: refused with problem+json (%s); the integration is not active and nothing of the sign-in is kept',
    async (_name, departure) => {
      expect(genuine).toBeDefined();
      const claimsBefore = await h.su('saml_assertion_ids').where({ workspace_id: ws }).count('* as n').first();
      const { integrationId, ssoUrl, cookie, requestId } = await beginSignIn({
        metadataXml: await (await fetch(okta.samlMetadataUrl)).text(),
      });
      const callback = await postToAcs(
        { SAMLResponse: departure(requestId), RelayState: ssoUrl.searchParams.get('RelayState')! },
        cookie,
      );
      expect(callback.statusCode).toBe(422);
      expect(callback.headers['content-type']).toContain(PROBLEM);
      const problem = callback.json();
      expect(problem.code).toBe('SamlResponseRefused');
      expect(JSON.stringify(problem)).not.toContain(okta.user.login);

      expect(await connectResult(integrationId)).toEqual({ status: 'failed', failure: 'SamlResponseRefused' });
      const row = await h.su('integrations').where({ integration_id: integrationId }).first();
      expect(row.status).toBe('failed');
      // Nothing kept: no identity, every secret of the attempt destroyed, no assertion id claimed.
      const secrets = await secretsOf(integrationId);
      expect(secrets.filter((s) => s.kind === 'oauth-tokens')).toEqual([]);
      expect(secrets.every((s) => s.state === 'destroyed' && s.ciphertext === null)).toBe(true);
      const claimsAfter = await h.su('saml_assertion_ids').where({ workspace_id: ws }).count('* as n').first();
      expect(claimsAfter).toEqual(claimsBefore);
    },
    90_000,
  );

  it('T2 [okta]: the ACS checks the RelayState before anything else and stores nothing for one it did not issue; the callback step needs the consent session cookie', async () => {
    const unknown = `${ws}.${crypto.randomUUID()}.${crypto.randomBytes(32).toString('base64url')}`;
    const stray = await h.app.inject({
      method: 'POST',
      url: '/v1/oauth/saml/acs',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ SAMLResponse: genuine!.SAMLResponse, RelayState: unknown }).toString(),
    });
    expect(stray.statusCode).toBe(400);
    expect(stray.headers['content-type']).toContain(PROBLEM);
    expect(await h.su('secrets').where({ workspace_id: ws, kind: 'saml-response', state: 'pending' })).toEqual([]);

    const { integrationId, ssoUrl } = await beginSignIn({ metadataUrl: okta.samlMetadataUrl });
    const withoutCookie = await postToAcs(await ssoForm(ssoUrl), 'tp_other=1');
    expect(withoutCookie.statusCode).toBe(403);
    expect((await h.su('integrations').where({ integration_id: integrationId }).first()).status).toBe('pending');
  }, 90_000);
});
