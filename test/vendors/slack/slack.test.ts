/**
 * Slack connector (real `@slack/web-api`) against the Slack emulator: consent with PKCE, least
 * privilege, token rotation, the channel picker's cursor paging, Slack's tiers and 429s, channel-
 * scoped messages, data flows limited to the row, revocation and audit.
 */
import crypto from 'node:crypto';
import { VendorError, VendorFailureType } from '../../../activities/vendors/errors';
import { SLACK_SCOPES, slackDescriptor } from '../../../activities/vendors/slack';
import type { ConnectorContext, TokenSet } from '../../../activities/vendors/types';
import { expectVendorError, harnessForFile } from '../support/connectorTests';
import { CLIENT_ID, REDIRECT_URI, startSlackHarness, type SlackHarness } from './harness';

let harness: SlackHarness;

harnessForFile(startSlackHarness, (started) => (harness = started));

const webApiCalls = (method: string) =>
  harness.emulator.control.requests.filter((request) => request.path === `/api/${method}`);
/** Slack's windows are a minute per method and workspace: each test starts in a fresh one. */
const nextMinute = () => harness.emulator.control.clock.advance(61_000);

/** Consents and answers the credential with the admin's channel selection in force. */
async function connected(controls: Record<string, string[]> = { channels: [] }) {
  const credential = await harness.connect();
  return { credential, ctx: harness.context(credential, controls) };
}

describe('Slack connect', () => {
  test('T1 T5 [slack]: the authorize URL asks exactly the matrix bot scopes (comma-separated, no user scope) with an S256 challenge; anything broader or without PKCE is refused before Slack is asked', () => {
    expect(slackDescriptor.scopes).toEqual({ required: ['chat:write', 'channels:read'], optional: [] });
    expect(slackDescriptor.pkce).toBe(true);
    const url = new URL(
      harness.connector.authorizeUrl('slack', {
        state: 'state-1',
        redirectUri: REDIRECT_URI,
        scopes: [...SLACK_SCOPES],
        codeChallenge: harness.challengeOf('verifier'),
      }),
    );
    expect(`${url.origin}${url.pathname}`).toBe(`${harness.emulator.url}/oauth/v2/authorize`);
    expect(url.searchParams.get('scope')).toBe('chat:write,channels:read');
    expect(url.searchParams.has('user_scope')).toBe(false);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toBe(harness.challengeOf('verifier'));
    expect(url.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(() =>
      harness.connector.authorizeUrl('slack', {
        state: 's',
        redirectUri: REDIRECT_URI,
        scopes: ['chat:write', 'channels:history'],
        codeChallenge: 'c',
      }),
    ).toThrow(VendorError);
    expect(() =>
      harness.connector.authorizeUrl('slack', { state: 's', redirectUri: REDIRECT_URI, scopes: [...SLACK_SCOPES] }),
    ).toThrow(/PKCE/);
  });

  test('T5 [slack]: the code is exchanged only with its PKCE verifier (oauth.v2.access, HTTP 200 ok:false otherwise); the grant is the bot scopes, bound to the Slack workspace', async () => {
    const verifier = crypto.randomBytes(32).toString('base64url');
    const consent = await fetch(
      harness.connector.authorizeUrl('slack', {
        state: 's',
        redirectUri: REDIRECT_URI,
        scopes: [...SLACK_SCOPES],
        codeChallenge: harness.challengeOf(verifier),
      }),
      { redirect: 'manual' },
    );
    const code = new URL(consent.headers.get('location')!).searchParams.get('code')!;
    const { audit } = harness.context({ accessToken: '', grantedScopes: [] });
    await expectVendorError(
      harness.connector.exchangeCode('slack', {
        code,
        redirectUri: REDIRECT_URI,
        codeVerifier: 'wrong-verifier',
        audit,
      }),
      VendorFailureType.ReauthorizationRequired,
    );
    const exchange = webApiCalls('oauth.v2.access').at(-1)!;
    expect([exchange.status, (exchange.body as Record<string, string>).code_verifier]).toEqual([200, 'wrong-verifier']);
    // Single use: the right verifier cannot revive a code already presented.
    await expectVendorError(
      harness.connector.exchangeCode('slack', { code, redirectUri: REDIRECT_URI, codeVerifier: verifier, audit }),
      VendorFailureType.ReauthorizationRequired,
    );
    const tokens = await harness.connect();
    expect(tokens.grantedScopes).toEqual(['chat:write', 'channels:read']);
    expect(tokens.metadata?.teamId).toBe(harness.emulator.control.teamId);
    expect(tokens.accessToken).toMatch(/^xoxe\.xoxb-/);
    expect(tokens.refreshToken).toMatch(/^xoxe-/);
    expect(tokens.expiresAt! - harness.emulator.control.clock.now()).toBeGreaterThan(11 * 60 * 60_000);
  });

  test('T1 [slack]: a grant broader than requested is refused, never used', async () => {
    harness.emulator.control.grantExtraScopes(['channels:history']);
    try {
      const error = await expectVendorError(harness.connect(), VendorFailureType.OutsideCustomerControls);
      expect(error.message).toContain('channels:history');
    } finally {
      harness.emulator.control.grantExtraScopes([]);
    }
  });
});

describe('Slack tokens', () => {
  test('T8 [slack]: with token rotation each refresh issues a new 12 h token and a new refresh token; the old refresh token replayed later is refused (re-authorization)', async () => {
    const { credential, ctx } = await connected();
    const rotated = await harness.connector.refresh(ctx);
    expect(rotated.accessToken).not.toBe(credential.accessToken);
    expect(rotated.refreshToken).not.toBe(credential.refreshToken);
    expect(rotated.metadata?.teamId).toBe(credential.metadata?.teamId);
    await harness.connector.testConnection(harness.context(rotated));
    harness.emulator.control.clock.advance(5 * 60_000);
    await expectVendorError(harness.connector.refresh(ctx), VendorFailureType.ReauthorizationRequired);
  });

  test('an expired rotating token is token_expired at Slack: re-authorization (refresh first), never a retry', async () => {
    const { ctx } = await connected();
    harness.emulator.control.clock.advance(12 * 60 * 60_000 + 1000);
    const error = await expectVendorError(
      harness.connector.testConnection(ctx),
      VendorFailureType.ReauthorizationRequired,
    );
    expect(error.message).toContain('token_expired');
    const fresh = await harness.connector.refresh(ctx);
    await harness.connector.testConnection(harness.context(fresh));
  });

  test('T4 [slack]: revoke calls auth.revoke; the token is then token_revoked at Slack, and a second disconnect finds nothing left to revoke', async () => {
    const { ctx } = await connected();
    expect(await harness.connector.revoke(ctx)).toEqual({ revoked: true, note: slackDescriptor.revocation.note });
    expect(webApiCalls('auth.revoke').at(-1)!.status).toBe(200);
    const error = await expectVendorError(
      harness.connector.testConnection(ctx),
      VendorFailureType.ReauthorizationRequired,
    );
    expect(error.message).toContain('token_revoked');
    // Its refresh token died with it.
    await expectVendorError(harness.connector.refresh(ctx), VendorFailureType.ReauthorizationRequired);
    expect(await harness.connector.revoke(ctx)).toMatchObject({ revoked: true });
    expect(ctx.auditEntries.map((entry) => entry.action)).toEqual(
      expect.arrayContaining(['auth.revoke', 'auth.test', 'oauth.v2.access']),
    );
  });

  test('a token Slack does not know (invalid_auth) or none at all is re-authorization; Slack error bodies never reach messages', async () => {
    const unknown = harness.context({
      accessToken: 'xoxb-forged',
      grantedScopes: [...SLACK_SCOPES],
      metadata: { teamId: harness.emulator.control.teamId },
    });
    const error = await expectVendorError(
      harness.connector.testConnection(unknown),
      VendorFailureType.ReauthorizationRequired,
    );
    expect(error.message).toBe('slack: invalid_auth');
    expect(error.message).not.toContain('xoxb');
  });
});

describe('Slack channel picker (channels:read) and rate limits', () => {
  let credential: TokenSet;
  beforeAll(async () => {
    for (let i = 0; i < 430; i++) harness.emulator.control.addChannel(`site-${i}`, { botIsMember: i % 2 === 0 });
    harness.emulator.control.addChannel('closed-out', { archived: true });
    ({ credential } = await connected());
  });

  async function allPages(ctx: ConnectorContext) {
    const pages: number[] = [];
    const names: string[] = [];
    for (let cursor: string | null = null; ;) {
      const page = await harness.connector.listControlChoices!(ctx, { cursor });
      pages.push(page.choices.length);
      names.push(...page.choices.map((choice) => choice.name));
      if (!page.nextCursor) return { pages, names };
      cursor = page.nextCursor;
    }
  }

  test('T18 [slack]: the picker pages conversations.list by response_metadata.next_cursor over public, unarchived channels, saying where the app is a member', async () => {
    nextMinute();
    const ctx = harness.context(credential);
    const { pages, names } = await allPages(ctx);
    expect(pages).toEqual([200, 200, 30]);
    expect(new Set(names).size).toBe(430);
    expect(names).not.toContain('closed-out');
    const listCalls = webApiCalls('conversations.list').slice(-3);
    expect(listCalls.map((call) => (call.body as Record<string, string>).types)).toEqual([
      'public_channel',
      'public_channel',
      'public_channel',
    ]);
    expect((listCalls[0]!.body as Record<string, string>).cursor).toBeUndefined();
    const first = await harness.connector.listControlChoices!(ctx, { cursor: null });
    expect(first.choices[0]).toEqual({ id: expect.stringMatching(/^C/), name: 'site-0', appIsMember: true });
    expect(first.choices[1]).toMatchObject({ name: 'site-1', appIsMember: false });
    // A cursor Slack did not issue is invalid_cursor: refused, not retried.
    await expectVendorError(
      harness.connector.listControlChoices!(ctx, { cursor: 'bm90LWEtY3Vyc29y' }),
      VendorFailureType.VendorRejected,
    );
  });

  test("a 429 is honoured: the RateLimited failure carries Slack's Retry-After and the SDK does not retry on its own", async () => {
    nextMinute();
    const ctx = harness.context(credential);
    const before = webApiCalls('conversations.list').length;
    harness.emulator.control.startRateLimitStorm(1, 7);
    const error = await expectVendorError(
      harness.connector.listControlChoices!(ctx, { cursor: null }),
      VendorFailureType.RateLimited,
    );
    expect(error.details.retryAfterMs).toBe(7000);
    const sent = webApiCalls('conversations.list').slice(before);
    expect(sent.map((call) => [call.status, call.responseHeaders['retry-after']])).toEqual([[429, '7']]);
    // The 429 blocks the workspace's budget until its Retry-After: the next call is refused here, unsent.
    await expectVendorError(
      harness.connector.listControlChoices!(ctx, { cursor: null }),
      VendorFailureType.RateLimited,
    );
    expect(webApiCalls('conversations.list').slice(before)).toHaveLength(1);
    harness.emulator.control.clock.advance(7000);
    expect((await harness.connector.listControlChoices!(ctx, { cursor: null })).choices).toHaveLength(200);
  });

  test("Slack's Tier 2 (conversations.list, 20 a minute) is kept by our budget: rapid listing is refused here with a wait, Slack never answers 429", async () => {
    nextMinute();
    const ctx = harness.context(credential);
    const before = webApiCalls('conversations.list').length;
    let served = 0;
    let waits = 0;
    while (served < 30) {
      try {
        await harness.connector.listControlChoices!(ctx, { cursor: null });
        served += 1;
      } catch (error) {
        expect((error as VendorError).type).toBe(VendorFailureType.RateLimited);
        waits += 1;
        harness.emulator.control.clock.advance((error as VendorError).details.retryAfterMs!);
      }
    }
    expect(waits).toBeGreaterThan(0);
    const sent = webApiCalls('conversations.list').slice(before);
    expect(sent).toHaveLength(30);
    expect(sent.every((call) => call.status === 200)).toBe(true);
    // The emulator does enforce Tier 2: a client without our budget is cut off at the 21st call in a minute.
    nextMinute();
    const statuses: number[] = [];
    for (let i = 0; i < 21; i++) {
      const response = await fetch(`${harness.emulator.apiUrl}conversations.list`, {
        method: 'POST',
        headers: { authorization: `Bearer ${credential.accessToken}` },
      });
      statuses.push(response.status);
    }
    expect(statuses.slice(0, 20).every((status) => status === 200)).toBe(true);
    expect(statuses[20]).toBe(429);
  });
});

describe('Slack data out (T18, T19)', () => {
  let site: string;
  let safety: string;
  let notInvited: string;
  beforeAll(() => {
    site = harness.emulator.control.addChannel('data-out-site').id;
    safety = harness.emulator.control.addChannel('data-out-safety').id;
    notInvited = harness.emulator.control.addChannel('data-out-lobby', { botIsMember: false }).id;
  });

  test('T18 [slack]: a message to a channel the admin did not select is refused before any request, and audited as refused; a selected channel gets it', async () => {
    const { ctx } = await connected({ channels: [site] });
    const before = harness.emulator.control.requests.length;
    await expectVendorError(
      harness.connector.perform(ctx, 'workflow-notification', { channelId: safety, text: 'Pour scheduled' }),
      VendorFailureType.OutsideCustomerControls,
    );
    await expectVendorError(
      harness.connector.perform(ctx, 'workflow-notification', { channelId: 'C0;drop', text: 'x' }),
      VendorFailureType.VendorRejected,
    );
    expect(harness.emulator.control.requests.slice(before)).toEqual([]);
    expect(ctx.auditEntries.map((entry) => [entry.action, entry.outcome, entry.errorClass])).toEqual([
      ['chat.postMessage.workflow-notification', 'failure', 'OutsideCustomerControls'],
      ['chat.postMessage.workflow-notification', 'failure', 'VendorRejected'],
    ]);
    const posted = await harness.connector.perform(ctx, 'workflow-notification', {
      channelId: site,
      text: 'Pour scheduled',
    });
    expect(posted).toEqual({ channelId: site, ts: expect.stringMatching(/^\d+\.\d{6}$/) });
    expect(harness.emulator.control.messages().filter((m) => m.channel === safety)).toEqual([]);
    expect(harness.emulator.control.messages().at(-1)).toMatchObject({ channel: site, text: 'Pour scheduled' });
  });

  test('T19 [slack]: data out is the two matrix actions only (an AI summary says so in Slack), and nothing comes in: a sync page is refused', async () => {
    const { ctx } = await connected({ channels: [site] });
    // The channel's pace is the Slack workspace's, whichever integration posts: past the last test's message.
    harness.emulator.control.clock.advance(10_000);
    await harness.connector.perform(ctx, 'ai-summary', { channelId: site, text: 'Three RFIs closed today.' });
    expect(harness.emulator.control.messages().at(-1)).toMatchObject({
      channel: site,
      text: 'Three RFIs closed today.',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: 'Three RFIs closed today.' } },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'AI-generated summary' }] },
      ],
    });
    const before = harness.emulator.control.requests.length;
    await expectVendorError(
      harness.connector.perform(ctx, 'upload-file', { channelId: site, text: 'x' }),
      VendorFailureType.OutsideCustomerControls,
    );
    await expectVendorError(
      harness.connector.fetchPage(ctx, { resource: 'channels', cursor: null }),
      VendorFailureType.OutsideCustomerControls,
    );
    expect(harness.emulator.control.requests.slice(before)).toEqual([]);
    expect(slackDescriptor.dataIn).toEqual([]);
  });

  test("chat.postMessage keeps Slack's pace of about one a second per channel: a burst waits on our budget, Slack never answers 429; a channel the bot was not invited to is not_in_channel", async () => {
    const { ctx } = await connected({ channels: [site, safety, notInvited] });
    harness.emulator.control.clock.advance(10_000);
    const before = webApiCalls('chat.postMessage').length;
    let waits = 0;
    for (let n = 0; n < 12;) {
      try {
        await harness.connector.perform(ctx, 'workflow-notification', { channelId: site, text: `update ${n}` });
        n += 1;
      } catch (error) {
        expect((error as VendorError).type).toBe(VendorFailureType.RateLimited);
        waits += 1;
        harness.emulator.control.clock.advance((error as VendorError).details.retryAfterMs!);
      }
    }
    // Another channel has its own pace.
    await harness.connector.perform(ctx, 'workflow-notification', { channelId: safety, text: 'other channel' });
    expect(waits).toBeGreaterThanOrEqual(10);
    const sent = webApiCalls('chat.postMessage').slice(before);
    expect(sent).toHaveLength(13);
    expect(sent.every((call) => call.status === 200)).toBe(true);
    await expectVendorError(
      harness.connector.perform(ctx, 'workflow-notification', { channelId: notInvited, text: 'hello' }),
      VendorFailureType.VendorRejected,
    );
  });
});

describe('Slack Events API subscription', () => {
  test('T21 [slack]: the subscription is the app-level route of the Slack workspace (nothing registered at Slack)', async () => {
    const { ctx } = await connected();
    const before = harness.emulator.control.requests.length;
    expect(
      await harness.connector.registerWebhooks(ctx, { callbackUrl: 'https://x.test/cb', clientState: 's' }),
    ).toEqual([{ externalId: `team:${harness.emulator.control.teamId}`, resource: 'app-webhook' }]);
    expect(harness.emulator.control.requests.slice(before)).toEqual([]);
  });

  test('without token rotation Slack issues a token that never expires and no refresh token; a refresh cannot re-issue it', async () => {
    const plain = await startSlackHarness({ tokenRotation: false });
    try {
      const tokens = await plain.connect();
      expect(tokens.accessToken).toMatch(/^xoxb-/);
      expect([tokens.refreshToken, tokens.expiresAt]).toEqual([undefined, undefined]);
      await expectVendorError(plain.connector.refresh(plain.context(tokens)), VendorFailureType.VendorRejected);
    } finally {
      await plain.emulator.stop();
    }
  });
});
