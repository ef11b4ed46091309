/** Microsoft connect, refresh and disconnect through MSAL against the emulated identity platform. */
import { microsoftDescriptors, MICROSOFT_VENDOR_IDS } from '../../../activities/vendors/microsoft';
import { createMicrosoftConnector } from '../../../activities/vendors/microsoft/connector';
import { createPkcePair } from '../../../lib/oauth/pkce';
import { recordingAuditor } from '../support/recordingAudit';
import { failureOf, REDIRECT_URI, startMicrosoftHarness, WORKSPACE_ID, type MicrosoftHarness } from './harness';

let harness: MicrosoftHarness;
beforeAll(async () => {
  harness = await startMicrosoftHarness();
});
afterAll(() => harness.stop());

describe('Microsoft connect', () => {
  test.each(MICROSOFT_VENDOR_IDS)(
    'T1 T5 [%s]: authorize URL asks exactly the row scopes with an S256 challenge, and the code exchange connects',
    async (vendor) => {
      const { tokens, authorizeUrl } = await harness.connect(vendor);
      const { required, optional } = microsoftDescriptors[vendor].scopes;
      const expected = vendor === 'entra' ? [...required, ...optional] : [...required, ...optional, 'offline_access'];
      expect(authorizeUrl.searchParams.get('scope')!.split(' ').sort()).toEqual(expected.sort());
      // The grant is recorded as the row's data scopes: offline_access only lets us refresh.
      expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
      expect(authorizeUrl.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(tokens.grantedScopes.sort()).toEqual([...required, ...optional].sort());
      expect(tokens.accessToken).toBeTruthy();
      expect(tokens.metadata?.tenantId).toBe(harness.emulator.tenantId);
      if (vendor === 'entra') expect(tokens.refreshToken).toBeUndefined();
      else expect(tokens.refreshToken).toBeTruthy();
    },
  );

  test('T1 [sharepoint]: the matrix row for SharePoint has Sites.Selected and never Files.Read.All; asking more is refused before any request', async () => {
    expect(microsoftDescriptors.sharepoint.scopes.required).toEqual(['Sites.Selected', 'Files.ReadWrite.Selected']);
    const pkce = createPkcePair();
    expect(() =>
      harness.connector.authorizeUrl('sharepoint', {
        state: 's',
        redirectUri: REDIRECT_URI,
        scopes: ['Sites.Selected', 'Files.ReadWrite.Selected', 'Files.Read.All'],
        codeChallenge: pkce.challenge,
      }),
    ).toThrow(/differ from the matrix row/);
    expect(() =>
      harness.connector.authorizeUrl('teams', {
        state: 's',
        redirectUri: REDIRECT_URI,
        scopes: ['Chat.ReadWrite'],
        codeChallenge: pkce.challenge,
      }),
    ).toThrow(/differ/);
  });

  test('T1 [sharepoint]: a grant broader than requested is refused at code exchange', async () => {
    harness.emulator.control.grantExtraScopesOnNextConsent(['Files.Read.All']);
    const failure = await failureOf(harness.connect('sharepoint'));
    expect(failure.type).toBe('OutsideCustomerControls');
    expect(failure.message).toContain('Files.Read.All');
  });

  test('T5 [onedrive]: a code redeemed with the wrong PKCE verifier is rejected by the identity platform', async () => {
    const failure = await failureOf(harness.connect('onedrive', { verifier: createPkcePair().verifier }));
    expect(failure.type).toBe('VendorRejected');
    const tokenCalls = harness.emulator.requests.filter((request) => request.path.endsWith('/oauth2/v2.0/token'));
    expect(tokenCalls.at(-1)!.status).toBe(400);
  });

  test('T5 [onedrive]: the connector refuses to build an authorize URL without a PKCE challenge', () => {
    expect(() =>
      harness.connector.authorizeUrl('onedrive', {
        state: 's',
        redirectUri: REDIRECT_URI,
        scopes: ['Files.ReadWrite.AppFolder'],
      }),
    ).toThrow(/PKCE/);
  });

  test('T9 T19 [entra]: Entra sign-in yields a verified identity with group claims (ID token checked against the JWKS)', async () => {
    const { tokens } = await harness.connect('entra');
    expect(tokens.metadata).toMatchObject({
      objectId: '00000000-0000-0000-0000-0000000000a1',
      groups: 'group-site-managers',
    });
    // Only opaque ids are kept: no name or e-mail address in the stored metadata.
    expect(JSON.stringify(tokens.metadata)).not.toContain('@');
  });

  test("T18 [entra]: sign-in accepts only an ID token of the customer's configured tenant, for our app, signed with a key of that tenant's published JWKS", async () => {
    const { emulator } = harness;
    const keysPath = `/${emulator.tenantId}/discovery/v2.0/keys`;
    const keyFetches = () => emulator.requests.filter((request) => request.path === keysPath).length;
    let fetchesBefore = keyFetches();
    const { tokens } = await harness.connect('entra');
    expect(tokens.metadata).toMatchObject({ tenantId: emulator.tenantId, objectId: expect.any(String) });
    // The keys come from the configured tenant's metadata endpoint, at each sign-in.
    expect(keyFetches()).toBe(fetchesBefore + 1);

    const forgeries = [
      { tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47' }, // another tenant's sign-in
      { audience: '0f1e2d3c-4b5a-4968-8776-655443322110' }, // a token issued to another app
      { unpublishedKey: true }, // signed with a key the tenant never published
    ];
    for (const forgery of forgeries) {
      emulator.control.forgeNextIdToken(forgery);
      fetchesBefore = keyFetches();
      const failure = await failureOf(harness.connect('entra'));
      expect({ forgery, ...failure }).toEqual({
        forgery,
        type: 'VendorRejected',
        message: expect.stringContaining('ID token failed verification'),
        retryAfterMs: undefined,
      });
      expect(keyFetches()).toBe(fetchesBefore + 1);
    }

    // The tenant is the customer's: a connector configured for another tenant refuses this tenant's genuine token.
    const otherTenant = createMicrosoftConnector({
      clientId: emulator.clientId,
      clientSecret: emulator.clientSecret,
      tenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47',
      graphBaseUrl: emulator.url,
      loginBaseUrl: emulator.url,
      caCert: emulator.caCert,
      now: emulator.control.now,
    });
    const pkce = createPkcePair();
    const url = otherTenant.authorizeUrl('entra', {
      state: 's',
      redirectUri: REDIRECT_URI,
      scopes: ['openid', 'profile', 'email'],
      codeChallenge: pkce.challenge,
    });
    const code = (await harness.consent(url)).searchParams.get('code')!;
    const { audit, entries } = recordingAuditor({ workspaceId: WORKSPACE_ID, vendor: 'entra' });
    const failure = await failureOf(
      otherTenant.exchangeCode('entra', { code, redirectUri: REDIRECT_URI, codeVerifier: pkce.verifier, audit }),
    );
    expect(failure).toMatchObject({ type: 'VendorRejected', message: expect.stringContaining('ID token') });
    // Refused sign-ins are audited like any other outcome (T10).
    expect(entries.map((entry) => [entry.action, entry.outcome])).toEqual([['oauth.exchange-code', 'failure']]);
  });

  test.each(['organizations', 'common'])(
    'T18 [entra]: multi-tenant sign-in (tenant setting "%s") checks the issuer against the token\'s own tid and refuses an issuer naming another tenant',
    async (multiTenant) => {
      const { emulator } = harness;
      const connector = createMicrosoftConnector({
        clientId: emulator.clientId,
        clientSecret: emulator.clientSecret,
        tenantId: multiTenant,
        graphBaseUrl: emulator.url,
        loginBaseUrl: emulator.url,
        caCert: emulator.caCert,
        now: emulator.control.now,
      });
      // Entra publishes the multi-tenant issuer as a template; a real token names the user's home tenant.
      expect(emulator.control.openIdConfiguration(multiTenant).issuer).toBe(`${emulator.url}/{tenantid}/v2.0`);
      const signIn = async () => {
        const pkce = createPkcePair();
        const url = connector.authorizeUrl('entra', {
          state: 's',
          redirectUri: REDIRECT_URI,
          scopes: ['openid', 'profile', 'email'],
          codeChallenge: pkce.challenge,
        });
        expect(new URL(url).pathname).toBe(`/${multiTenant}/oauth2/v2.0/authorize`);
        const code = (await harness.consent(url)).searchParams.get('code')!;
        const { audit } = recordingAuditor({ workspaceId: WORKSPACE_ID, vendor: 'entra' });
        return connector.exchangeCode('entra', { code, redirectUri: REDIRECT_URI, codeVerifier: pkce.verifier, audit });
      };
      const tokens = await signIn();
      // The tenant that signed in is the token's, not the literal setting.
      expect(tokens.metadata).toMatchObject({ tenantId: emulator.tenantId, groups: 'group-site-managers' });

      emulator.control.forgeNextIdToken({ issuerTenantId: '72f988bf-86f1-41af-91ab-2d7cd011db47' });
      expect(await failureOf(signIn())).toMatchObject({
        type: 'VendorRejected',
        message: expect.stringContaining('ID token failed verification'),
      });
      emulator.control.forgeNextIdToken({ unpublishedKey: true });
      expect(await failureOf(signIn())).toMatchObject({ type: 'VendorRejected' });
    },
  );

  test('refresh rotates the refresh token; the old one is not revoked (Entra behaviour) and every refresh is audited', async () => {
    const { tokens } = await harness.connect('microsoft365');
    const ctx = harness.context('microsoft365', tokens);
    const first = await harness.connector.refresh(ctx);
    expect(first.refreshToken).toBeTruthy();
    expect(first.refreshToken).not.toBe(tokens.refreshToken);
    expect(first.accessToken).not.toBe(tokens.accessToken);
    const second = await harness.connector.refresh({ ...ctx, credential: first });
    expect(second.refreshToken).not.toBe(first.refreshToken);
    // The replaced refresh token still works at Microsoft: only deleting it on our side ends it.
    await expect(harness.connector.refresh(ctx)).resolves.toMatchObject({
      grantedScopes: expect.arrayContaining(['Files.Read']),
    });
    expect(ctx.auditEntries.map((entry) => [entry.action, entry.outcome])).toEqual([
      ['oauth.refresh', 'success'],
      ['oauth.refresh', 'success'],
      ['oauth.refresh', 'success'],
    ]);
  });

  test('T4 [onedrive]: revoke says Microsoft cannot revoke, and after the access token expires the integration needs reauthorization', async () => {
    const { tokens } = await harness.connect('onedrive');
    const ctx = harness.context('onedrive', tokens);
    await harness.connector.testConnection(ctx);
    const before = harness.emulator.requests.length;
    const result = await harness.connector.revoke(ctx);
    expect(result.revoked).toBe(false);
    expect(result.note).toMatch(/no token revocation endpoint/);
    expect(result.note).toMatch(/remove.*consent/);
    expect(harness.emulator.requests.length).toBe(before);
    harness.emulator.control.advanceClock(2 * 60 * 60 * 1000);
    const failure = await failureOf(harness.connector.testConnection(ctx));
    expect(failure.type).toBe('ReauthorizationRequired');
    expect(ctx.auditEntries.at(-1)).toMatchObject({
      action: 'approot.get',
      outcome: 'failure',
      errorClass: 'ReauthorizationRequired',
    });
  });

  test('T10: the code exchange is audited with the row scopes and its outcome', async () => {
    const pkce = createPkcePair();
    const url = harness.connector.authorizeUrl('teams', {
      state: 's',
      redirectUri: REDIRECT_URI,
      scopes: ['ChannelMessage.Send', 'Chat.ReadWrite'],
      codeChallenge: pkce.challenge,
    });
    const code = (await harness.consent(url)).searchParams.get('code')!;
    const { audit, entries } = recordingAuditor({ workspaceId: WORKSPACE_ID, vendor: 'teams' });
    await harness.connector.exchangeCode('teams', {
      code,
      redirectUri: REDIRECT_URI,
      codeVerifier: pkce.verifier,
      audit,
    });
    await failureOf(
      harness.connector.exchangeCode('teams', { code, redirectUri: REDIRECT_URI, codeVerifier: pkce.verifier, audit }),
    );
    expect(entries.map((entry) => [entry.action, entry.scope, entry.outcome])).toEqual([
      ['oauth.exchange-code', 'ChannelMessage.Send Chat.ReadWrite', 'success'],
      ['oauth.exchange-code', 'ChannelMessage.Send Chat.ReadWrite', 'failure'],
    ]);
  });
});
