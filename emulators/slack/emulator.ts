/**
 * Slack emulator: OAuth v2 consent (slack.com/oauth/v2/authorize) and the Web API (slack.com/api/…)
 * in one server, following Slack's published contract as our connector relies on it:
 * - authorize: comma-separated bot scopes the app is configured with, no user scopes, exact redirect
 *   URI, and (a PKCE app) an S256 `code_challenge`; the signed-in admin consents at once (302).
 * - `oauth.v2.access`: form body (or HTTP Basic client credentials); the code is single-use and
 *   checked against the PKCE verifier; with token rotation on, `xoxe.xoxb-` bot tokens live 12 h and
 *   each refresh (`grant_type=refresh_token`) rotates the refresh token; with it off, `xoxb-` tokens
 *   never expire and no refresh token is issued.
 * - every method answers HTTP 200 with `{ ok: false, error }` on failure (`not_authed`,
 *   `invalid_auth`, `token_revoked`, `token_expired`, `missing_scope`, `channel_not_found`,
 *   `not_in_channel`, `invalid_cursor`, …), except rate limiting: 429 + Retry-After.
 * - rate limits per method, per app and workspace over a sliding minute (conversations.list Tier 2:
 *   20, auth.revoke Tier 3: 50, auth.test and oauth.v2.access Tier 4: 100); chat.postMessage
 *   about one a second per channel, with short bursts (5 in any 5 s).
 * - `conversations.list`: public channels only with `channels:read` (other types need scopes the
 *   app lacks), cursor paging with `response_metadata.next_cursor` ('' on the last page).
 * - `chat.postMessage` needs `chat:write` and a bot that is a member of the channel.
 * - `auth.revoke` ends the token and the grant behind it.
 * - Events API deliveries signed `v0=` HMAC-SHA256 of `v0:{timestamp}:{body}` with the signing
 *   secret (`X-Slack-Signature`, `X-Slack-Request-Timestamp`, retries with `X-Slack-Retry-Num`).
 */
import crypto from 'node:crypto';
import {
  EmulatorRouter,
  bearerToken,
  bodyFields,
  clientCredentials,
  consentRedirect,
  createAppAuthority,
  createEmulatorClock,
  createRateStorm,
  postDelivery,
  redeemGrant,
  startEmulatorServer,
  tooManyRequests,
  type EmulatorClock,
  type EmulatorRequest,
  type EmulatorResponse,
  type IssuedTokens,
  type LoggedRequest,
  type OAuthGrant,
  type OAuthResult,
} from '../shared';

type Json = Record<string, unknown>;

export interface SlackEmulatorOptions {
  clientId: string;
  clientSecret: string;
  signingSecret: string;
  redirectUris: string[];
  /** Bot scopes configured on the app: authorize refuses others. */
  appScopes: string[];
  /** Token rotation (one-way at Slack): 12 h access tokens and rotating refresh tokens. Default on. */
  tokenRotation?: boolean;
  teamId?: string;
  teamName?: string;
  clock?: EmulatorClock;
}

/** Token rotation: access tokens live 12 h; PKCE apps' refresh tokens 30 days. */
const ROTATING_ACCESS_TTL_MS = 12 * 60 * 60_000;
const REFRESH_TTL_MS = 30 * 24 * 60 * 60_000;
/** Without rotation a token lives until revoked. */
const NEVER_MS = 100 * 365 * 24 * 60 * 60_000;
/** A refresh token just rotated may be presented again briefly (a lost answer); after that the grant dies. */
const REFRESH_REUSE_GRACE_MS = 60_000;
/** Sliding-window limits per method (requests per minute), per app and workspace. */
export const SLACK_EMULATOR_TIERS: Record<string, number> = {
  'conversations.list': 20,
  'auth.revoke': 50,
  'auth.test': 100,
  'oauth.v2.access': 100,
};
/** chat.postMessage: about one a second per channel, short bursts allowed. */
const CHANNEL_BURST = { messages: 5, windowMs: 5_000 };
const MINUTE_MS = 60_000;

export interface ChannelState {
  id: string;
  name: string;
  archived: boolean;
  /** The app's bot was invited to it. */
  botIsMember: boolean;
}

export interface PostedMessage {
  channel: string;
  ts: string;
  text: string;
  blocks?: unknown;
}

export interface SlackEmulator {
  url: string;
  /** The Web API base the SDK takes as `slackApiUrl`. */
  apiUrl: string;
  stop(): Promise<void>;
  control: SlackEmulatorControl;
}

export interface SlackEmulatorControl {
  clock: EmulatorClock;
  requests: LoggedRequest[];
  teamId: string;
  addChannel(name: string, options?: { botIsMember?: boolean; archived?: boolean }): ChannelState;
  channels(): ChannelState[];
  messages(): PostedMessage[];
  /** Extra bot scopes the next consent grants beyond the requested ones (a misconfigured app, for T1). */
  grantExtraScopes(scopes: string[]): void;
  /** The next `count` Web API requests get 429 + Retry-After. */
  startRateLimitStorm(count: number, retryAfterSeconds: number): void;
  /** The workspace admin removes the app: every grant dies; `app_uninstalled` is delivered to `eventsUrl` when given. */
  uninstall(eventsUrl?: string): Promise<number | undefined>;
  /** Signs an Events API request like Slack and POSTs it; answers the receiver's status. */
  sendEvent(url: string, input: SlackEventInput): Promise<number>;
  /** The last request sent to a receiver, as captured on the wire. */
  lastDelivery(): { url: string; body: string; headers: Record<string, string> } | undefined;
  /** The signature headers Slack would send for `body` at `timestampS` (with another secret for forgeries). */
  sign(body: string, timestampS: number, secret?: string): Record<string, string>;
}

export interface SlackEventInput {
  /** An event callback's inner event, or a `url_verification` handshake. */
  event?: Json;
  challenge?: string;
  eventId?: string;
  retryNum?: number;
  secret?: string;
  /** Seconds since the epoch (default: the emulator clock). */
  timestampS?: number;
}

export async function startSlackEmulator(options: SlackEmulatorOptions): Promise<SlackEmulator> {
  const clock = options.clock ?? createEmulatorClock();
  const rotation = options.tokenRotation ?? true;
  const teamId = options.teamId ?? `T${crypto.randomBytes(5).toString('hex').toUpperCase()}`;
  const teamName = options.teamName ?? 'Acme Construction';
  const appId = `A${crypto.randomBytes(5).toString('hex').toUpperCase()}`;
  const botUserId = `U${crypto.randomBytes(5).toString('hex').toUpperCase()}`;
  const authority = createAppAuthority(options, {
    clock,
    accessTokenTtlMs: rotation ? ROTATING_ACCESS_TTL_MS : NEVER_MS,
    refreshTokenTtlMs: REFRESH_TTL_MS,
    refreshReuseGraceMs: REFRESH_REUSE_GRACE_MS,
    tokenPrefix: rotation ? { access: 'xoxe.xoxb-1-', refresh: 'xoxe-1-' } : { access: 'xoxb-', refresh: 'xoxr-' },
  });
  const channels = new Map<string, ChannelState>();
  const messages: PostedMessage[] = [];
  /** Every access token issued, with its grant: tells revoked and expired tokens from unknown ones. */
  const issued = new Map<string, string>();
  const revokedGrants = new Set<string>();
  const calls = new Map<string, number[]>();
  const storm = createRateStorm();
  let extraScopes: string[] = [];
  let lastDelivery: ReturnType<SlackEmulatorControl['lastDelivery']>;
  let nextChannel = 1;
  const now = () => clock.now();

  const ok = (body: Json = {}): EmulatorResponse => ({ status: 200, body: { ok: true, ...body } });
  const fail = (error: string, extra: Json = {}): EmulatorResponse => ({
    status: 200,
    body: { ok: false, error, ...extra },
  });

  /** Counts a call in its sliding window; a 429 (Retry-After: when the oldest call leaves it) when full. */
  function overLimit(key: string, limit: number, windowMs: number): EmulatorResponse | undefined {
    const cutoff = now() - windowMs;
    const recent = (calls.get(key) ?? []).filter((at) => at > cutoff);
    if (recent.length >= limit) {
      calls.set(key, recent);
      return tooManyRequests(
        Math.max(1, Math.ceil((recent[0]! - cutoff) / 1000)),
        {},
        { ok: false, error: 'ratelimited' },
      );
    }
    recent.push(now());
    calls.set(key, recent);
    return undefined;
  }

  const field = (request: EmulatorRequest, name: string): string | undefined => {
    const value = ((request.body ?? {}) as Record<string, unknown>)[name];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };

  /** The token's grant, or Slack's error for it. The SDK sends it as a bearer header; a `token` field works too. */
  function authenticate(request: EmulatorRequest, scope?: string): OAuthGrant | EmulatorResponse {
    const token = bearerToken(request) ?? field(request, 'token');
    if (!token) return fail('not_authed');
    const grant = authority.validateAccessToken(token);
    if (!grant) {
      const grantId = issued.get(token);
      if (grantId === undefined) return fail('invalid_auth');
      return fail(revokedGrants.has(grantId) ? 'token_revoked' : 'token_expired');
    }
    if (scope && !grant.scopes.includes(scope))
      return fail('missing_scope', { needed: scope, provided: grant.scopes.join(',') });
    return grant;
  }

  function revoke(grantId: string): void {
    revokedGrants.add(grantId);
    authority.revokeGrant(grantId);
  }

  function tokenAnswer(result: OAuthResult<IssuedTokens>, codeGrant: boolean): EmulatorResponse {
    if (!result.ok) {
      if (result.error === 'invalid_client') return fail('bad_client_secret');
      if (result.description.includes('redirect_uri')) return fail('bad_redirect_uri');
      if (result.description.includes('PKCE') || result.description.includes('code_verifier'))
        return fail('invalid_code_verifier');
      return fail(codeGrant ? 'invalid_code' : 'invalid_refresh_token');
    }
    const tokens = result.value;
    issued.set(tokens.accessToken, tokens.grant.grantId);
    return ok({
      app_id: appId,
      authed_user: { id: 'U0ADMIN' },
      scope: tokens.scopes.join(','),
      token_type: 'bot',
      access_token: tokens.accessToken,
      bot_user_id: botUserId,
      team: { id: teamId, name: teamName },
      enterprise: null,
      is_enterprise_install: false,
      ...(rotation ? { refresh_token: tokens.refreshToken, expires_in: tokens.expiresInSeconds } : {}),
    });
  }

  /** Cursors are opaque to clients and bound to the listing they came from. */
  const cursorOf = (offset: number) => Buffer.from(JSON.stringify({ offset, teamId })).toString('base64url');
  function offsetOf(cursor: string): number | undefined {
    try {
      const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as {
        offset?: unknown;
        teamId?: unknown;
      };
      return parsed.teamId === teamId && Number.isSafeInteger(parsed.offset) ? (parsed.offset as number) : undefined;
    } catch {
      return undefined;
    }
  }

  const web = (
    method: string,
    handler: (request: EmulatorRequest) => EmulatorResponse,
  ): [string, string, typeof handler] => [
    'POST',
    `/api/${method}`,
    (request) => {
      const limit = SLACK_EMULATOR_TIERS[method];
      return (limit !== undefined ? overLimit(`${teamId}:${method}`, limit, MINUTE_MS) : undefined) ?? handler(request);
    },
  ];

  const router = new EmulatorRouter().on('GET', '/oauth/v2/authorize', (request) => {
    const scopes = (request.query.get('scope') ?? '').split(',').filter(Boolean);
    if (scopes.length === 0 || scopes.some((scope) => !options.appScopes.includes(scope)))
      return { status: 400, body: 'invalid_scope: a requested scope is not configured for this app' };
    if ((request.query.get('user_scope') ?? '') !== '')
      return { status: 400, body: 'invalid_scope: this app requests no user scopes' };
    // A PKCE app: Slack refuses an authorization without a challenge.
    return consentRedirect(authority, request, {
      scopes: [...scopes, ...extraScopes],
      subject: teamId,
      pkce: 'required',
      state: 'always',
    });
  });

  const methods = [
    web('oauth.v2.access', (request) => {
      // Client credentials from the form, or HTTP Basic (both are documented).
      const client = clientCredentials(request, { basic: true, secretInBody: true });
      const grantType = field(request, 'grant_type') ?? 'authorization_code';
      if (grantType === 'refresh_token' && !rotation) return fail('invalid_grant_type');
      const result = redeemGrant(authority, client, { ...bodyFields(request), grant_type: grantType });
      return result ? tokenAnswer(result, grantType === 'authorization_code') : fail('invalid_grant_type');
    }),
    web('auth.test', (request) => {
      const grant = authenticate(request);
      if (!('grantId' in grant)) return grant;
      return ok({
        url: `https://${teamName.toLowerCase().replace(/\W+/g, '-')}.slack.com/`,
        team: teamName,
        user: 'trackproject',
        team_id: teamId,
        user_id: botUserId,
        bot_id: `B${appId.slice(1)}`,
        is_enterprise_install: false,
      });
    }),
    web('auth.revoke', (request) => {
      const grant = authenticate(request);
      if (!('grantId' in grant)) return grant;
      // `test=true` checks the call without revoking.
      if (field(request, 'test') === 'true' || field(request, 'test') === '1') return ok({ revoked: false });
      revoke(grant.grantId);
      return ok({ revoked: true });
    }),
    web('conversations.list', (request) => {
      const grant = authenticate(request, 'channels:read');
      if (!('grantId' in grant)) return grant;
      const types = (field(request, 'types') ?? 'public_channel').split(',');
      const unsupported = types.find((type) => type !== 'public_channel');
      if (unsupported)
        return fail('missing_scope', { needed: unsupported === 'private_channel' ? 'groups:read' : 'im:read' });
      const limit = Number(field(request, 'limit') ?? 100);
      if (!Number.isInteger(limit) || limit < 1 || limit > 1000) return fail('invalid_limit');
      const cursor = field(request, 'cursor');
      const offset = cursor === undefined ? 0 : offsetOf(cursor);
      if (offset === undefined) return fail('invalid_cursor');
      const excludeArchived = ['true', '1'].includes(field(request, 'exclude_archived') ?? '');
      const listed = [...channels.values()].filter((channel) => !excludeArchived || !channel.archived);
      const page = listed.slice(offset, offset + limit);
      const more = offset + limit < listed.length;
      return ok({
        channels: page.map((channel) => ({
          id: channel.id,
          name: channel.name,
          is_channel: true,
          is_private: false,
          is_archived: channel.archived,
          is_member: channel.botIsMember,
          num_members: 12,
        })),
        response_metadata: { next_cursor: more ? cursorOf(offset + limit) : '' },
      });
    }),
    web('chat.postMessage', (request) => {
      const grant = authenticate(request, 'chat:write');
      if (!('grantId' in grant)) return grant;
      const channel = channels.get(field(request, 'channel') ?? '');
      if (!channel) return fail('channel_not_found');
      if (channel.archived) return fail('is_archived');
      if (!channel.botIsMember) return fail('not_in_channel');
      const text = field(request, 'text');
      const blocks = field(request, 'blocks');
      if (!text && !blocks) return fail('no_text');
      let parsedBlocks: unknown;
      try {
        parsedBlocks = blocks ? JSON.parse(blocks) : undefined;
      } catch {
        return fail('invalid_blocks');
      }
      if (parsedBlocks !== undefined && !Array.isArray(parsedBlocks)) return fail('invalid_blocks');
      const limited = overLimit(
        `${teamId}:chat.postMessage:${channel.id}`,
        CHANNEL_BURST.messages,
        CHANNEL_BURST.windowMs,
      );
      if (limited) return limited;
      const ts = `${Math.floor(now() / 1000)}.${String(messages.length + 1).padStart(6, '0')}`;
      const message: PostedMessage = {
        channel: channel.id,
        ts,
        text: text ?? '',
        ...(parsedBlocks ? { blocks: parsedBlocks } : {}),
      };
      messages.push(message);
      return ok({
        channel: channel.id,
        ts,
        message: { type: 'message', text: message.text, bot_id: `B${appId.slice(1)}`, ts },
      });
    }),
  ];
  for (const [method, path, handler] of methods) router.on(method, path, handler);

  function sign(body: string, timestampS: number, secret = options.signingSecret): Record<string, string> {
    const digest = crypto.createHmac('sha256', secret).update(`v0:${timestampS}:${body}`).digest('hex');
    return { 'x-slack-request-timestamp': String(timestampS), 'x-slack-signature': `v0=${digest}` };
  }

  async function sendEvent(url: string, input: SlackEventInput): Promise<number> {
    const payload: Json = input.event
      ? {
          token: 'deprecated-verification-token',
          team_id: teamId,
          api_app_id: appId,
          event: { ...input.event, event_ts: `${Math.floor(now() / 1000)}.000100` },
          type: 'event_callback',
          event_id: input.eventId ?? `Ev${crypto.randomBytes(5).toString('hex').toUpperCase()}`,
          event_time: Math.floor(now() / 1000),
          authorizations: [{ team_id: teamId, user_id: botUserId, is_bot: true }],
        }
      : { token: 'deprecated-verification-token', challenge: input.challenge ?? '', type: 'url_verification' };
    const body = JSON.stringify(payload);
    const headers = {
      ...sign(body, input.timestampS ?? Math.floor(now() / 1000), input.secret),
      'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
      ...(input.retryNum
        ? { 'x-slack-retry-num': String(input.retryNum), 'x-slack-retry-reason': 'http_timeout' }
        : {}),
    };
    lastDelivery = { url, body, headers };
    return postDelivery(url, body, headers);
  }

  const control: SlackEmulatorControl = {
    clock,
    requests: [],
    teamId,
    addChannel(name, channelOptions = {}) {
      const channel: ChannelState = {
        id: `C${String(nextChannel++).padStart(8, '0')}`,
        name,
        archived: channelOptions.archived ?? false,
        botIsMember: channelOptions.botIsMember ?? true,
      };
      channels.set(channel.id, channel);
      return channel;
    },
    channels: () => [...channels.values()],
    messages: () => [...messages],
    grantExtraScopes(scopes) {
      extraScopes = scopes;
    },
    startRateLimitStorm(count, retryAfterSeconds) {
      storm.start(count, tooManyRequests(retryAfterSeconds, {}, { ok: false, error: 'ratelimited' }));
    },
    async uninstall(eventsUrl) {
      for (const grantId of new Set(issued.values())) revoke(grantId);
      return eventsUrl ? sendEvent(eventsUrl, { event: { type: 'app_uninstalled' } }) : undefined;
    },
    sendEvent,
    lastDelivery: () => lastDelivery,
    sign,
  };

  // Storms hit the Web API, never the consent page.
  const server = await startEmulatorServer({
    router,
    before: (request) => (request.path.startsWith('/api/') ? storm.intercept() : undefined),
  });
  control.requests = server.requests;
  return { url: server.url, apiUrl: `${server.url}/api/`, stop: server.stop, control };
}
