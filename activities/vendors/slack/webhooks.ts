/**
 * Slack Events API verification for the API's receiver (T21). A Slack app has ONE Request URL for
 * every workspace that installed it (`<API_PUBLIC_URL>/v1/webhooks/slack`, the app-level receiver),
 * and every request is signed with the app's signing secret: `X-Slack-Signature` is `v0=` + hex
 * HMAC-SHA256 of `v0:{X-Slack-Request-Timestamp}:{raw body}`; a timestamp more than five minutes
 * off is refused (Slack's own replay window). The `url_verification` handshake is signed too: it is
 * answered only once the signature holds. A verified delivery is bound to the integrations of its
 * `team_id` (`slackRoutingKey`, stored at connect). Slack retries an unacknowledged event
 * (`X-Slack-Retry-Num`) with the same `event_id`, the dedup key. It expects the ack within 3 s,
 * which the receiver meets: it persists, then answers.
 */
import { constantTimeEqual, hmacSha256Hex } from '../shared';
import type { WebhookVerifier } from '../types';

/** Slack's documented tolerance for `X-Slack-Request-Timestamp`. */
export const SLACK_TIMESTAMP_TOLERANCE_S = 5 * 60;

type Headers = Record<string, string | string[] | undefined>;

export type SlackVerification =
  | { ok: true; payload: Record<string, unknown> }
  | { ok: false; reason: 'missing-headers' | 'stale' | 'bad-signature' | 'bad-payload' };

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function verifySlackRequest(input: {
  signingSecret: string;
  rawBody: Buffer;
  headers: Headers;
  nowMs?: number;
}): SlackVerification {
  const signature = header(input.headers, 'x-slack-signature');
  const timestamp = header(input.headers, 'x-slack-request-timestamp');
  if (!signature || !timestamp || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'missing-headers' };
  const nowS = Math.floor((input.nowMs ?? Date.now()) / 1000);
  if (Math.abs(nowS - Number(timestamp)) > SLACK_TIMESTAMP_TOLERANCE_S) return { ok: false, reason: 'stale' };
  const body = input.rawBody.toString('utf8');
  if (!constantTimeEqual(signature, `v0=${hmacSha256Hex(input.signingSecret, `v0:${timestamp}:${body}`)}`))
    return { ok: false, reason: 'bad-signature' };
  try {
    const payload = JSON.parse(body) as unknown;
    return payload && typeof payload === 'object' && !Array.isArray(payload)
      ? { ok: true, payload: payload as Record<string, unknown> }
      : { ok: false, reason: 'bad-payload' };
  } catch {
    return { ok: false, reason: 'bad-payload' };
  }
}

/**
 * Events about the connection itself: the app was uninstalled, or its bot token revoked (we hold a
 * bot token only, so a `tokens_revoked` naming user tokens alone is not about our grant).
 */
function grantLost(event: { type?: unknown; tokens?: { bot?: unknown } }): boolean {
  if (event.type === 'app_uninstalled') return true;
  return event.type === 'tokens_revoked' && Array.isArray(event.tokens?.bot) && event.tokens.bot.length > 0;
}

/** Binds app-level deliveries to the integrations of one Slack workspace (`route_app_webhook`). */
export const slackRoutingKey = (teamId: string) => `team:${teamId}`;
/** Slack workspace (`T…`) and Enterprise Grid (`E…`) ids. */
const TEAM_ID = /^[TE][A-Z0-9]{2,20}$/;

export type SlackDelivery =
  { kind: 'challenge'; challenge: string } | { kind: 'event'; eventId: string; eventType: string; lifecycle: boolean };

/** What a verified payload is: the URL handshake, an event callback, or nothing we act on. */
export function slackDelivery(payload: Record<string, unknown>): SlackDelivery | undefined {
  if (payload.type === 'url_verification') {
    return typeof payload.challenge === 'string' && payload.challenge.length <= 200
      ? { kind: 'challenge', challenge: payload.challenge }
      : undefined;
  }
  if (
    payload.type !== 'event_callback' ||
    typeof payload.event_id !== 'string' ||
    !/^[A-Za-z0-9]{1,64}$/.test(payload.event_id)
  )
    return undefined;
  const event = (payload.event ?? {}) as { type?: unknown; tokens?: { bot?: unknown } };
  const type = event.type;
  if (typeof type !== 'string' || !/^[a-z_.]{1,64}$/.test(type)) return undefined;
  return { kind: 'event', eventId: payload.event_id, eventType: type, lifecycle: grantLost(event) };
}

/** The grant behind the connection is gone: the lifecycle marks the integration for re-authorization. */
const GRANT_LOST = { event: 'reauthorizationRequired' };

/**
 * The API's receiver: every request, the `url_verification` handshake included, is signed with the
 * app's signing secret and must be fresh; `event_id` is the dedup key, `team_id` the routing key.
 */
export const slackVerifier: WebhookVerifier = {
  async challenge(request, secret) {
    const verified = verifySlackRequest({ signingSecret: secret, rawBody: request.rawBody, headers: request.headers });
    const delivery = verified.ok ? slackDelivery(verified.payload) : undefined;
    if (delivery?.kind === 'challenge') return { contentType: 'text/plain; charset=utf-8', body: delivery.challenge };
    // A handshake that does not verify is refused here; anything else is left to `verify`.
    return !verified.ok && request.rawBody.includes('"url_verification"') ? 'unauthenticated' : undefined;
  },
  async verify(request, secret) {
    const verified = verifySlackRequest({ signingSecret: secret, rawBody: request.rawBody, headers: request.headers });
    const delivery = verified.ok ? slackDelivery(verified.payload) : undefined;
    if (delivery?.kind !== 'event') return undefined;
    return [
      {
        deliveryId: delivery.eventId,
        eventType: delivery.eventType,
        ...(delivery.lifecycle ? { lifecycle: GRANT_LOST } : {}),
      },
    ];
  },
  // Read only after `verify` proved the body is Slack's.
  appRoutingKey(request) {
    try {
      const teamId = (JSON.parse(request.rawBody.toString('utf8')) as { team_id?: unknown }).team_id;
      return typeof teamId === 'string' && TEAM_ID.test(teamId) ? slackRoutingKey(teamId) : undefined;
    } catch {
      return undefined;
    }
  },
};
