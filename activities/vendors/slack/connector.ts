/**
 * Slack connector (OAuth v2 + `@slack/web-api`). Credential model: a bot token (`xoxb-`, or with
 * token rotation `xoxe.xoxb-` for 12 h plus a rotating refresh token), `metadata.teamId` the Slack
 * workspace of the install. Data in: none; data out: a message to a channel the admin selected.
 * T18: Slack grants `chat:write` for every channel the bot is in and `channels:read` over every
 * public channel, with no per-channel grant or revoke; `controls.channels` (the admin's selection)
 * is therefore enforced here, before any request leaves. `channels:read` feeds the admin's picker
 * (`listControlChoices`) and nothing else: no channel is read, synced or cached.
 */
import type { OauthV2AccessResponse, WebClient } from '@slack/web-api';
import { scopesOutside } from '../../../lib/scopes';
import { VendorError, VendorFailureType } from '../errors';
import {
  APP_WEBHOOK_RESOURCE,
  assertGrantWithinRequested,
  createLocalVendorBudgets,
  createVendorCall,
  type VendorBudgets,
} from '../shared';
import { requireString } from '../shared/actionInput';
import type { Connector, ConnectorContext, TokenSet } from '../types';
import { createSlackClient } from './client';
import { SLACK_SCOPES, slackDescriptor } from './descriptor';
import { mapSlackError, slackPlatformError } from './errors';
import { createSlackBudgets, type SlackTieredMethod } from './tiers';
import { slackRoutingKey } from './webhooks';

export interface SlackConnectorOptions {
  /** Web API base ending in `/api/` (https://slack.com/api/). */
  apiUrl: string;
  /** Consent pages (https://slack.com). */
  webUrl: string;
  clientId: string;
  clientSecret: string;
  /** Clock of token expiry and of the process's own budgets (tests share the emulator's). */
  now?: () => number;
  /**
   * The worker's vendor budgets (shared by every worker): the team's budget, its method tiers and
   * channel paces. Absent: this process's own, on `now`.
   */
  budgets?: VendorBudgets;
}

const VENDOR = 'slack';
const [SCOPE_WRITE, SCOPE_READ] = SLACK_SCOPES;
/** conversations.list: Slack recommends at most 200 per page. */
const PAGE_SIZE = 200;
/** Slack channel ids (`C…` public, `G…` legacy private). */
const CHANNEL_ID = /^[CG][A-Z0-9]{2,20}$/;
/** Slack's `text` limit for chat.postMessage (longer is truncated by Slack; we refuse instead). */
const MAX_TEXT = 40_000;

function outside(reason: string): VendorError {
  return new VendorError(VendorFailureType.OutsideCustomerControls, VENDOR, reason);
}

/** T18: the admin's selection; a message anywhere else is refused before a request is made. */
export function assertChannelSelected(controls: Record<string, string[]>, channelId: string): void {
  if (!CHANNEL_ID.test(channelId))
    throw new VendorError(VendorFailureType.VendorRejected, VENDOR, 'invalid input: channelId');
  if (!(controls.channels ?? []).includes(channelId)) throw outside('channel not selected by the workspace admin');
}

/** The message of a data-out action: the summary says what it is, in Slack's own context line. */
function messageOf(action: string, text: string): { text: string; blocks?: Array<Record<string, unknown>> } {
  if (action !== 'ai-summary') return { text };
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: 'AI-generated summary' }] },
    ],
  };
}

export function createSlackConnector(options: SlackConnectorOptions): Connector {
  const budgets = options.budgets ?? createLocalVendorBudgets({ now: options.now });
  const call = createVendorCall({
    family: VENDOR,
    appId: options.clientId,
    rateLimit: slackDescriptor.rateLimit,
    budgets,
    mapError: mapSlackError,
  });
  const tiers = createSlackBudgets(options.clientId, budgets);
  const now = options.now ?? Date.now;
  const client = (token?: string): WebClient => createSlackClient(options.apiUrl, token);

  /** One Web API call on the audited path, inside its method's (and channel's) Slack budget. */
  function slackCall<T>(
    ctx: ConnectorContext,
    method: SlackTieredMethod,
    scope: string,
    run: () => Promise<T>,
  ): Promise<T> {
    return call(ctx, { action: method, scope }, async () => {
      await tiers.method(ctx, method);
      return run();
    });
  }

  /**
   * The token set of an `oauth.v2.access` answer. T1: a bot grant beyond what we asked for, or any
   * user token (we ask for no user scope), is refused.
   */
  function tokensOf(response: OauthV2AccessResponse, previous?: TokenSet): TokenSet {
    if (!response.access_token || response.token_type !== 'bot')
      throw new VendorError(VendorFailureType.VendorRejected, VENDOR, 'token endpoint answered no bot token');
    const grantedScopes = (response.scope ?? '').split(',').filter(Boolean);
    const userScopes = (response.authed_user?.scope ?? '').split(',').filter(Boolean);
    assertGrantWithinRequested(VENDOR, SLACK_SCOPES, [...grantedScopes, ...userScopes.map((s) => `user:${s}`)]);
    const teamId = response.team?.id ?? previous?.metadata?.teamId;
    if (!teamId) throw new VendorError(VendorFailureType.VendorRejected, VENDOR, 'token endpoint named no workspace');
    return {
      accessToken: response.access_token,
      refreshToken: response.refresh_token,
      expiresAt: response.expires_in ? now() + response.expires_in * 1000 : undefined,
      grantedScopes,
      metadata: {
        teamId,
        ...(response.app_id ? { appId: response.app_id } : {}),
        ...(response.bot_user_id ? { botUserId: response.bot_user_id } : {}),
      },
    };
  }

  function teamOf(ctx: ConnectorContext): string {
    const teamId = ctx.credential.metadata?.teamId;
    if (!teamId)
      throw new VendorError(VendorFailureType.ReauthorizationRequired, VENDOR, 'credential has no workspace');
    return teamId;
  }

  return {
    vendors: ['slack'],

    // PKCE app: the S256 challenge is required; scopes are comma-separated bot scopes, no user scope.
    authorizeUrl(_vendor, request) {
      const beyond = scopesOutside(request.scopes, SLACK_SCOPES).map(({ scope }) => scope);
      if (beyond.length > 0) throw outside(`scopes beyond the matrix row requested (${beyond.join(', ')})`);
      if (!request.codeChallenge)
        throw new VendorError(VendorFailureType.VendorRejected, VENDOR, 'a PKCE challenge is required');
      const url = new URL(`${options.webUrl}/oauth/v2/authorize`);
      url.searchParams.set('client_id', options.clientId);
      url.searchParams.set('scope', request.scopes.join(','));
      url.searchParams.set('redirect_uri', request.redirectUri);
      url.searchParams.set('state', request.state);
      url.searchParams.set('code_challenge', request.codeChallenge);
      url.searchParams.set('code_challenge_method', 'S256');
      return url.toString();
    },

    async exchangeCode(_vendor, input) {
      if (!input.codeVerifier)
        throw new VendorError(VendorFailureType.VendorRejected, VENDOR, 'a PKCE verifier is required');
      return call({ audit: input.audit }, { action: 'oauth.v2.access', scope: SLACK_SCOPES.join(' ') }, async () => {
        // The SDK's argument type predates PKCE; it sends every field it is given.
        const exchange = {
          client_id: options.clientId,
          client_secret: options.clientSecret,
          code: input.code,
          redirect_uri: input.redirectUri,
          code_verifier: input.codeVerifier,
        };
        return tokensOf(await client().oauth.v2.access(exchange));
      });
    },

    // Token rotation (12 h access tokens): the refresh token rotates with every use and is stored
    // before the old one is dropped. Without rotation Slack's tokens never expire and nothing can
    // re-issue one short of a new consent.
    async refresh(ctx) {
      const refreshToken = ctx.credential.refreshToken;
      return slackCall(ctx, 'oauth.v2.access', SLACK_SCOPES.join(' '), async () => {
        if (!refreshToken)
          throw new VendorError(
            VendorFailureType.VendorRejected,
            VENDOR,
            'token rotation is off for this Slack app: its token cannot be re-issued without a new consent',
          );
        return tokensOf(
          await client().oauth.v2.access({
            client_id: options.clientId,
            client_secret: options.clientSecret,
            grant_type: 'refresh_token',
            refresh_token: refreshToken,
          }),
          ctx.credential,
        );
      });
    },

    // The token must still work and still belong to the workspace it was installed in.
    async testConnection(ctx) {
      const teamId = teamOf(ctx);
      const answer = await slackCall(ctx, 'auth.test', SCOPE_READ, () =>
        client(ctx.credential.accessToken).auth.test(),
      );
      if (answer.team_id !== teamId) throw slackPlatformError('invalid_auth');
    },

    // auth.revoke ends the bot token (and the install's refresh token with it); a token Slack already
    // revoked (the admin removed the app) leaves nothing to revoke.
    async revoke(ctx) {
      try {
        await slackCall(ctx, 'auth.revoke', SCOPE_READ, () => client(ctx.credential.accessToken).auth.revoke());
      } catch (error) {
        if (!(error instanceof VendorError) || error.type !== VendorFailureType.ReauthorizationRequired) throw error;
      }
      return { revoked: true, note: slackDescriptor.revocation.note };
    },

    // The Events API has one Request URL for the whole app (set in its settings): nothing is
    // registered at Slack; the routing key binds the workspace's deliveries to this integration.
    registerWebhooks: async (ctx) => [{ externalId: slackRoutingKey(teamOf(ctx)), resource: APP_WEBHOOK_RESOURCE }],
    renewSubscription: async (_ctx, subscription) => subscription,
    deleteSubscription: async () => undefined,

    // T19: Slack's data in is none; the lifecycle's sync has no resource to ask for.
    fetchPage: async () => {
      throw outside('Slack has no data in');
    },

    async listControlChoices(ctx, input) {
      const page = await slackCall(ctx, 'conversations.list', SCOPE_READ, () =>
        client(ctx.credential.accessToken).conversations.list({
          types: 'public_channel',
          exclude_archived: true,
          limit: PAGE_SIZE,
          ...(input.cursor ? { cursor: input.cursor } : {}),
        }),
      );
      return {
        choices: (page.channels ?? [])
          .filter((channel) => typeof channel.id === 'string' && typeof channel.name === 'string')
          .map((channel) => ({ id: channel.id!, name: channel.name!, appIsMember: channel.is_member === true })),
        nextCursor: page.response_metadata?.next_cursor || null,
      };
    },

    async perform(ctx, action, input) {
      if (!slackDescriptor.dataOut.includes(action)) throw outside(`${action} is not in Slack's data out`);
      const channelId = requireString(VENDOR, input, 'channelId');
      const text = requireString(VENDOR, input, 'text');
      if (text.length > MAX_TEXT)
        throw new VendorError(VendorFailureType.VendorRejected, VENDOR, 'invalid input: text');
      return call(ctx, { action: `chat.postMessage.${action}`, scope: SCOPE_WRITE }, async () => {
        assertChannelSelected(ctx.controls, channelId);
        await tiers.message(ctx, channelId);
        const posted = await client(ctx.credential.accessToken).chat.postMessage({
          channel: channelId,
          ...messageOf(action, text),
          unfurl_links: false,
          unfurl_media: false,
        });
        return { channelId: posted.channel ?? channelId, ts: posted.ts ?? null };
      });
    },
  };
}
