/**
 * Google Workspace sign-in (OIDC through google-auth-library) against the Google emulator: the ID
 * token's signature (JWKS), issuer, audience, expiry, nonce and hosted domain are checked, only the
 * opaque subject is kept, and nothing goes out.
 */
import { GOOGLE_SCOPE_URIS } from '../../../activities/vendors/google';
import type { IdTokenForgery } from '../../../emulators/google';
import { failureOf, startGoogleHarness, WORKSPACE_DOMAIN, type GoogleHarness } from './harness';

const ANA = '108234567890123456789';
let harness: GoogleHarness;
beforeAll(async () => {
  harness = await startGoogleHarness();
  harness.emulator.control.addUser({ subject: '2001', email: 'eve@rival.example', name: 'Eve', hd: 'rival.example' });
  harness.emulator.control.addUser({ subject: '2002', email: 'sam@gmail.com', name: 'Sam' });
});
afterAll(() => harness.stop());
afterEach(() => harness.emulator.control.signIn(ANA));

describe('Google Workspace sign-in', () => {
  test('T1 T5 T9 [google-workspace]: OIDC with PKCE S256 and a nonce; the verified ID token leaves only the opaque subject', async () => {
    const { tokens, authorizeUrl } = await harness.connect('google-workspace');
    expect(authorizeUrl.searchParams.get('scope')!.split(' ').sort()).toEqual(
      ['openid', GOOGLE_SCOPE_URIS.profile!, GOOGLE_SCOPE_URIS.email!].sort(),
    );
    expect(authorizeUrl.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorizeUrl.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    // Sign-in needs no offline access: no refresh token is asked for or kept.
    expect(authorizeUrl.searchParams.get('access_type')).toBe('online');
    expect(tokens.refreshToken).toBeUndefined();
    expect(tokens.grantedScopes.sort()).toEqual(['email', 'openid', 'profile']);
    expect(tokens.metadata).toEqual({ subject: ANA });
    expect(JSON.stringify(tokens)).not.toMatch(/acme\.example|Ana|@/);
    const ctx = harness.context('google-workspace', tokens);
    await harness.connector.testConnection(ctx);
    expect(ctx.auditEntries.map((e) => `${e.action} ${e.outcome}`)).toEqual(['oidc.userinfo success']);
  });

  test.each([
    ['another company’s Workspace', '2001'],
    ['a personal Google account (no hd)', '2002'],
  ])('T9 T18 [google-workspace]: a sign-in from %s is refused and its grant revoked', async (_label, subject) => {
    harness.emulator.control.signIn(subject);
    const revokesBefore = harness.requestsTo(/^\/revoke$/).length;
    const failure = await failureOf(harness.connect('google-workspace'));
    expect(failure).toMatchObject({ type: 'VendorRejected' });
    expect(failure.message).toMatch(/hosted domain/);
    expect(
      harness
        .requestsTo(/^\/revoke$/)
        .slice(revokesBefore)
        .map((r) => r.status),
    ).toEqual([200]);
  });

  test.each<[IdTokenForgery, RegExp]>([
    ['signature', /signature, issuer, audience or expiry/],
    ['audience', /signature, issuer, audience or expiry/],
    ['issuer', /signature, issuer, audience or expiry/],
    ['expired', /signature, issuer, audience or expiry/],
    ['nonce', /nonce/],
  ])('T9 [google-workspace]: an ID token with a forged %s is refused', async (forgery, reason) => {
    harness.emulator.control.forgeNextIdToken(forgery);
    const failure = await failureOf(harness.connect('google-workspace'));
    expect(failure.type).toBe('VendorRejected');
    expect(failure.message).toMatch(reason);
  });

  test('T18 [google-workspace]: without a Workspace domain to enforce, the code is not even exchanged', async () => {
    const exchangesBefore = harness.requestsTo(/^\/token$/).length;
    const failure = await failureOf(harness.connect('google-workspace', {}));
    expect(failure.type).toBe('OutsideCustomerControls');
    expect(harness.requestsTo(/^\/token$/).length).toBe(exchangesBefore);
  });

  test('T4 T19 [google-workspace]: nothing goes out; refresh asks for a new sign-in; disconnect revokes the sign-in grant', async () => {
    const { tokens } = await harness.connect('google-workspace');
    const ctx = harness.context('google-workspace', tokens);
    expect((await failureOf(harness.connector.perform(ctx, 'picked-folder-export', {}))).type).toBe(
      'OutsideCustomerControls',
    );
    expect((await failureOf(harness.connector.refresh(ctx))).type).toBe('ReauthorizationRequired');
    expect(await harness.connector.registerWebhooks(ctx, { callbackUrl: 'https://x.test', clientState: 's' })).toEqual(
      [],
    );
    expect(await harness.connector.revoke(ctx)).toMatchObject({ revoked: true });
    expect((await failureOf(harness.connector.testConnection(ctx))).type).toBe('ReauthorizationRequired');
  });

  test('T18 [google-workspace]: a credential whose account left the customer’s domains fails the connection test', async () => {
    const { tokens } = await harness.connect('google-workspace');
    const failure = await failureOf(
      harness.connector.testConnection(harness.context('google-workspace', tokens, { tenant: ['other.example'] })),
    );
    expect(failure.type).toBe('OutsideCustomerControls');
    expect(WORKSPACE_DOMAIN).toBe('acme.example');
  });
});
