/** Okta OIDC sign-in through openid-client against the emulated org: connect, checks, revocation, limits. */
import crypto from 'node:crypto';
import { OKTA_CONTROL, OKTA_MATRIX_SCOPE } from '../../../activities/vendors/okta';
import { opaqueGroupId } from '../../../activities/vendors/okta/signIn';
import { startOktaEmulator } from '../../../emulators/okta';
import { createPkcePair } from '../../../lib/oauth/pkce';
import { failureOf } from '../microsoft/harness';
import { recordingAuditor } from '../support/recordingAudit';
import { REDIRECT_URI, startOktaHarness, WORKSPACE_ID, type OktaHarness } from './harness';

let harness: OktaHarness;
beforeAll(async () => {
  harness = await startOktaHarness();
});
afterAll(() => harness.stop());

const tokenCalls = () => harness.emulator.requests.filter((request) => request.path === '/oauth2/v1/token');

describe('Okta sign-in (OIDC)', () => {
  test('T1 T5 [okta]: the authorize URL goes to the customer org with exactly openid + groups, an S256 challenge and no secret anywhere', async () => {
    const { tokens, authorizeUrl } = await harness.signIn();
    expect(authorizeUrl.origin + authorizeUrl.pathname).toBe(`${harness.emulator.url}/oauth2/v1/authorize`);
    expect(authorizeUrl.searchParams.get('scope')).toBe('openid groups');
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizeUrl.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(authorizeUrl.searchParams.get('client_id')).toBe(harness.emulator.clientId);
    expect(tokens.grantedScopes).toEqual([OKTA_MATRIX_SCOPE]);
    expect(tokens.refreshToken).toBeUndefined();
    // A public client: the code is redeemed with the PKCE verifier, never a client secret (T9).
    const form = tokenCalls().at(-1)!.body as Record<string, string>;
    expect(form).toMatchObject({ grant_type: 'authorization_code', client_id: harness.emulator.clientId });
    expect(form.code_verifier).toMatch(/^[A-Za-z0-9_-]{43,128}$/);
    expect(form.client_secret).toBeUndefined();
    expect(tokenCalls().at(-1)!.headers.authorization).toBeUndefined();
  });

  test('T9 T19 [okta]: sign-in keeps the subject and opaque group ids only: no name, login or group name', async () => {
    const { tokens } = await harness.signIn();
    const org = { url: new URL(harness.emulator.url), clientId: harness.emulator.clientId };
    expect(tokens.metadata).toEqual({
      orgUrl: harness.emulator.url,
      subject: harness.emulator.user.id,
      groups: harness.emulator.user.groups.map((name) => opaqueGroupId(org, name)).join(','),
    });
    const kept = JSON.stringify(tokens);
    for (const personal of [harness.emulator.user.login, harness.emulator.user.name, ...harness.emulator.user.groups])
      expect(kept).not.toContain(personal);
  });

  test('T1 [okta]: a grant broader than openid + groups is refused and its token revoked at once', async () => {
    harness.emulator.control.grantExtraScopesOnNextConsent(['offline_access']);
    const revokesBefore = harness.emulator.requests.filter((r) => r.path === '/oauth2/v1/revoke').length;
    const failure = await failureOf(harness.signIn());
    expect(failure).toMatchObject({
      type: 'OutsideCustomerControls',
      message: expect.stringContaining('offline_access'),
    });
    expect(harness.emulator.requests.filter((r) => r.path === '/oauth2/v1/revoke').length).toBe(revokesBefore + 1);
  });

  test('T1 [okta]: asking for anything but the row is refused before the browser leaves', () => {
    const pkce = createPkcePair();
    expect(() =>
      harness.connector.authorizeUrl('okta', {
        state: 's',
        redirectUri: REDIRECT_URI,
        scopes: [OKTA_MATRIX_SCOPE, 'okta.users.read'],
        codeChallenge: pkce.challenge,
        controls: harness.controls,
      }),
    ).toThrow(/differ from the matrix row/);
    expect(() =>
      harness.connector.authorizeUrl('okta', {
        state: 's',
        redirectUri: REDIRECT_URI,
        scopes: [OKTA_MATRIX_SCOPE],
        controls: harness.controls,
      }),
    ).toThrow(/PKCE/);
  });

  test('T5 [okta]: a code redeemed with another PKCE verifier is refused by the org', async () => {
    const failure = await failureOf(harness.signIn({ verifier: createPkcePair().verifier }));
    expect(failure.type).toBe('VendorRejected');
    expect(tokenCalls().at(-1)!.status).toBe(400);
  });

  test("T18 [okta]: only an ID token of the admin's org, for its client, signed with a published key and unexpired is accepted", async () => {
    const forgeries = [
      { issuer: 'https://other-customer.okta.com' },
      { audience: '0oaSomeoneElsesApp' },
      { unpublishedKey: true },
      { expiredSecondsAgo: 600 },
    ];
    for (const forgery of forgeries) {
      harness.emulator.control.forgeNextIdToken(forgery);
      const failure = await failureOf(harness.signIn());
      expect({ forgery, type: failure.type }).toEqual({ forgery, type: 'VendorRejected' });
    }
  });

  test('T18 [okta]: the org must be on an allowed domain and named with its client id; otherwise nothing is requested', () => {
    const pkce = createPkcePair();
    const authorize = (controls: Record<string, string[]>) => () =>
      harness.connector.authorizeUrl('okta', {
        state: 's',
        redirectUri: REDIRECT_URI,
        scopes: [OKTA_MATRIX_SCOPE],
        codeChallenge: pkce.challenge,
        controls,
      });
    const before = harness.emulator.requests.length;
    expect(authorize({ [OKTA_CONTROL.org]: ['https://attacker.example'], [OKTA_CONTROL.clientId]: ['x'] })).toThrow(
      /allowed domain/,
    );
    expect(authorize({ [OKTA_CONTROL.org]: [harness.emulator.url] })).toThrow(/client id/);
    expect(
      authorize({
        [OKTA_CONTROL.org]: [`${harness.emulator.url}/oauth2/v1/authorize`],
        [OKTA_CONTROL.clientId]: ['x'],
      }),
    ).toThrow(/allowed domain/);
    expect(harness.emulator.requests.length).toBe(before);
  });

  test('T4 [okta]: disconnect revokes the access token at the org; userinfo then refuses it', async () => {
    const { tokens } = await harness.signIn();
    const ctx = harness.context(tokens);
    await harness.connector.testConnection(ctx);
    expect(harness.emulator.control.accessTokenActive(tokens.accessToken)).toBe(true);
    const result = await harness.connector.revoke(ctx);
    expect(result.revoked).toBe(true);
    expect(harness.emulator.control.accessTokenActive(tokens.accessToken)).toBe(false);
    const failure = await failureOf(harness.connector.testConnection(ctx));
    expect(failure.type).toBe('ReauthorizationRequired');
    expect(ctx.auditEntries.map((entry) => [entry.action, entry.outcome])).toEqual([
      ['oidc.userinfo', 'success'],
      ['oauth.revoke', 'success'],
      ['oidc.userinfo', 'failure'],
    ]);
  });

  test('T19 [okta]: every sync resource and data-out action is refused, audited, and nothing is sent', async () => {
    const { tokens } = await harness.signIn();
    const ctx = harness.context(tokens);
    const before = harness.emulator.requests.length;
    expect(await failureOf(harness.connector.fetchPage(ctx, { resource: 'users', cursor: null }))).toMatchObject({
      type: 'OutsideCustomerControls',
    });
    expect(await failureOf(harness.connector.perform(ctx, 'assign-group', {}))).toMatchObject({
      type: 'OutsideCustomerControls',
    });
    expect(harness.emulator.requests.length).toBe(before);
    expect(ctx.auditEntries.map((entry) => [entry.action, entry.outcome])).toEqual([
      ['sync.fetch-page', 'failure'],
      ['action.assign-group', 'failure'],
    ]);
  });

  test("Okta's 429 becomes RateLimited, waiting until X-Rate-Limit-Reset", async () => {
    const { tokens } = await harness.signIn();
    const ctx = harness.context(tokens);
    harness.emulator.control.startRateLimitStorm(1, 40);
    const failure = await failureOf(harness.connector.testConnection(ctx));
    expect(failure.type).toBe('RateLimited');
    expect(failure.retryAfterMs).toBeGreaterThan(30_000);
    expect(failure.retryAfterMs).toBeLessThanOrEqual(41_000);
    // Until the Reset passes, our own budget refuses the org's calls: none reaches Okta.
    const served = harness.emulator.requests.length;
    expect((await failureOf(harness.connector.testConnection(ctx))).type).toBe('RateLimited');
    expect(harness.emulator.requests.length).toBe(served);
    harness.budgets.reset();
    await harness.connector.testConnection(ctx);
  });

  test('T12 [okta]: Okta counts per org: two integrations signed in at one org share its budget (its 429 holds back both), another org has its own', async () => {
    const other = await startOktaEmulator({ redirectUris: [REDIRECT_URI] });
    try {
      const otherOrg = { [OKTA_CONTROL.org]: [other.url], [OKTA_CONTROL.clientId]: [other.clientId] };
      const first = harness.context((await harness.signIn()).tokens);
      const second = harness.context((await harness.signIn()).tokens, {
        workspaceId: crypto.randomUUID(),
        controls: harness.controls,
      });
      const elsewhere = harness.context((await harness.signIn({ controls: otherOrg })).tokens, {
        workspaceId: crypto.randomUUID(),
        controls: otherOrg,
      });
      expect(first.credential.metadata?.orgUrl).toBe(harness.emulator.url);
      expect(elsewhere.credential.metadata?.orgUrl).toBe(other.url);

      harness.emulator.control.startRateLimitStorm(1, 40);
      expect(await failureOf(harness.connector.testConnection(first))).toMatchObject({ type: 'RateLimited' });
      // The other workspace on the same org: held back by our budget, Okta not called.
      const served = harness.emulator.requests.length;
      expect(await failureOf(harness.connector.testConnection(second))).toMatchObject({
        type: 'RateLimited',
        retryAfterMs: expect.any(Number),
      });
      expect(harness.emulator.requests.length).toBe(served);
      // Another org's budget is its own: its call goes out and succeeds.
      const otherServed = other.requests.length;
      await harness.connector.testConnection(elsewhere);
      expect(other.requests.length).toBeGreaterThan(otherServed);
    } finally {
      harness.budgets.reset();
      await other.stop();
    }
  });

  test('T10 [okta]: the code exchange is audited with the row scope and its outcome, also when refused', async () => {
    const pkce = createPkcePair();
    const url = harness.connector.authorizeUrl('okta', {
      state: 's',
      redirectUri: REDIRECT_URI,
      scopes: [OKTA_MATRIX_SCOPE],
      codeChallenge: pkce.challenge,
      controls: harness.controls,
    });
    const code = (await harness.consent(url)).searchParams.get('code')!;
    const { audit, entries } = recordingAuditor({ workspaceId: WORKSPACE_ID, vendor: 'okta' });
    const exchange = () =>
      harness.connector.exchangeCode('okta', {
        code,
        redirectUri: REDIRECT_URI,
        codeVerifier: pkce.verifier,
        audit,
        controls: harness.controls,
      });
    await exchange();
    await failureOf(exchange());
    expect(entries.map((entry) => [entry.action, entry.scope, entry.outcome])).toEqual([
      ['oidc.exchange-code', OKTA_MATRIX_SCOPE, 'success'],
      ['oidc.exchange-code', OKTA_MATRIX_SCOPE, 'failure'],
    ]);
  });
});
