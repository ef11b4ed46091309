/**
 * How the receiver authenticates a delivery, per webhook scheme (T21). A verifier sees the raw
 * bytes exactly as received and the endpoint's signing secret; it answers the deliveries it proved
 * authentic, or undefined (forged, stale, malformed: the receiver answers 401 without saying which).
 *
 * Vendor folders own their schemes (`activities/vendors/<vendor>/webhooks.ts`); this module only
 * adapts them to the receiver.
 */
import crypto from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { githubRoutingKey } from '../../activities/vendors/github/connector';
import { githubWebhookDeletions, verifyGithubWebhook } from '../../activities/vendors/github/webhooks';
import { jiraWebhookDeletions, verifyJiraWebhook } from '../../activities/vendors/jira/webhooks';
import { parseNotifications, validationReply } from '../../activities/vendors/microsoft/webhooks';
import { oktaAuthorized, oktaDelivery, oktaVerificationChallenge } from '../../activities/vendors/okta/webhooks';
import { slackDelivery, verifySlackRequest } from '../../activities/vendors/slack/webhooks';
import type { ReplayGuard } from '../../activities/vendors/shared/replayGuard';
import type { WebhookScheme } from '../../activities/vendors/types';

export interface WebhookRequest {
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  query: Record<string, string | undefined>;
}

export interface VerifiedDelivery {
  /** The vendor's delivery id (stable across its retries): the dedup key. */
  deliveryId: string;
  /** Event name, e.g. `issues.opened`; stored with the delivery, never the payload. */
  eventType: string;
  /** Set for events about the connection itself (uninstall, reauthorization required…). */
  lifecycle?: { event: string; subscriptionId?: string };
  /** Narrows the sync the delivery asks for (default: an incremental round of every resource). */
  sync?: { resource: string; full: boolean };
}

/** Always a 200 (every vendor's handshake expects one). */
export interface ChallengeAnswer {
  contentType: string;
  body: string;
}

export interface WebhookVerifier {
  /**
   * Subscription handshakes that precede signed deliveries (Graph `validationToken`, Slack
   * `url_verification`, Okta `X-Okta-Verification-Challenge`). Only asked for a known endpoint.
   */
  challenge?(request: WebhookRequest, secret: string): Promise<ChallengeAnswer | 'unauthenticated' | undefined>;
  verify(request: WebhookRequest, secret: string): Promise<VerifiedDelivery[] | undefined>;
  /**
   * App-level deliveries (one URL for the whole vendor app): the key that binds an already
   * verified delivery to the integrations that subscribed to it (`route_app_webhook`).
   */
  appRoutingKey?(request: WebhookRequest): string | undefined;
}

export type WebhookVerifiers = Partial<Record<WebhookScheme, WebhookVerifier>>;

/**
 * Dedup is the receiver's job (a `webhook_deliveries` insert in Postgres, shared by every API
 * instance and recorded only after verification); vendor verifiers that take a replay guard get
 * this pass-through one.
 */
const DEDUP_IN_RECEIVER: ReplayGuard = { firstSeen: async () => true };

/** GitHub: `X-Hub-Signature-256` over the raw body; `X-GitHub-Delivery` is the dedup key. */
export const githubVerifier: WebhookVerifier = {
  async verify(request, secret) {
    const verified = await verifyGithubWebhook({
      secret,
      rawBody: request.rawBody,
      headers: request.headers,
      replayGuard: DEDUP_IN_RECEIVER,
    });
    if (!verified.ok) return undefined;
    const action =
      typeof verified.payload.action === 'string' && /^[a-z_]{1,64}$/.test(verified.payload.action)
        ? verified.payload.action
        : undefined;
    const eventType = action ? `${verified.event}.${action}` : verified.event;
    const { deletions, installationDeleted } = githubWebhookDeletions(verified.event, verified.payload);
    if (installationDeleted) return [{ deliveryId: verified.deliveryId, eventType, lifecycle: { event: eventType } }];
    // GitHub reports deletions only by webhook: a full round of the resource reconciles them away.
    const deleted = deletions.find((d) => d.externalIds.length > 0);
    return [
      {
        deliveryId: verified.deliveryId,
        eventType,
        ...(deleted ? { sync: { resource: deleted.resource, full: true } } : {}),
      },
    ];
  },
  appRoutingKey(request) {
    try {
      const id = (JSON.parse(request.rawBody.toString('utf8')) as { installation?: { id?: unknown } }).installation?.id;
      return Number.isSafeInteger(id) ? githubRoutingKey(id as number) : undefined;
    } catch {
      return undefined;
    }
  },
};

/**
 * Graph change notifications: the validation handshake, then `clientState` (the endpoint's secret)
 * on every notification. Graph sends no delivery id; a notification's id is the hash of the body,
 * its position and the minute it arrived: retries within the minute are deduplicated, a later one
 * at worst triggers one more incremental sync (harmless), and no distinct change is ever dropped.
 */
export const graphVerifier: WebhookVerifier = {
  async challenge(request) {
    const params = new URLSearchParams();
    for (const [key, value] of Object.entries(request.query)) if (value !== undefined) params.set(key, value);
    const reply = validationReply(params);
    return reply ? { contentType: reply.contentType, body: reply.body } : undefined;
  },
  async verify(request, secret) {
    let body: unknown;
    try {
      body = JSON.parse(request.rawBody.toString('utf8'));
    } catch {
      return undefined;
    }
    const { accepted, rejected } = parseNotifications(body, () => secret);
    // One forged notification taints the batch: nothing of it is acted on.
    if (rejected > 0 || accepted.length === 0) return undefined;
    const bodyHash = crypto.createHash('sha256').update(request.rawBody).digest('hex');
    const minute = Math.floor(Date.now() / 60_000);
    return accepted.map((notification, index) => ({
      deliveryId: `${bodyHash}:${index}:${minute}`,
      eventType:
        notification.kind === 'lifecycle' ? `lifecycle.${notification.event}` : `change.${notification.changeType}`,
      ...(notification.kind === 'lifecycle'
        ? { lifecycle: { event: notification.event, subscriptionId: notification.subscriptionId } }
        : {}),
    }));
  },
};

/**
 * Jira (OAuth 2.0 apps): each delivery carries a JWT signed with OUR app's client secret, which Jira
 * knows and our per-endpoint secret it cannot carry; the per-endpoint URL is what binds the
 * delivery to its workspace. The JWT does not cover the body, so a delivery only triggers a sync
 * that re-reads data through the API under the project allow-list.
 */
export function jiraVerifier(app: { clientId: string; clientSecret: string }): WebhookVerifier {
  return {
    async verify(request) {
      const verified = await verifyJiraWebhook({
        ...app,
        rawBody: request.rawBody,
        headers: request.headers,
        replayGuard: DEDUP_IN_RECEIVER,
      });
      if (!verified.ok) return undefined;
      const { deletions } = jiraWebhookDeletions(verified.event, verified.payload);
      const deleted = deletions.find((d) => d.externalIds.length > 0);
      return [
        {
          deliveryId: verified.deliveryId,
          eventType: verified.event,
          ...(deleted ? { sync: { resource: deleted.resource, full: true } } : {}),
        },
      ];
    },
  };
}

/** The grant behind the connection is gone: the lifecycle marks the integration for re-authorization. */
const GRANT_LOST = { event: 'reauthorizationRequired' };

/**
 * Slack Events API: every request, the `url_verification` handshake included, is signed with the
 * app's signing secret (the endpoint's secret) and must be fresh; `event_id` is the dedup key.
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
};

/** Okta event hooks: the static `Authorization` value set at hook creation, on the one-time GET and on every delivery. */
export const oktaVerifier: WebhookVerifier = {
  async challenge(request, secret) {
    const challenge = oktaVerificationChallenge(request.headers);
    if (challenge === undefined) return undefined;
    if (!oktaAuthorized(request.headers, secret)) return 'unauthenticated';
    return { contentType: 'application/json', body: JSON.stringify({ verification: challenge }) };
  },
  async verify(request, secret) {
    if (!oktaAuthorized(request.headers, secret)) return undefined;
    const delivery = oktaDelivery(request.rawBody);
    // One delivery per hook call: its events share one id, and each asks for the same sync.
    return delivery
      ? [{ deliveryId: delivery.eventId, eventType: delivery.eventTypes.join(',').slice(0, 200) }]
      : undefined;
  },
};

/** Schemes with a verifier wired; a vendor whose scheme is missing here gets 404 at its webhook URL. */
export const DEFAULT_WEBHOOK_VERIFIERS: WebhookVerifiers = {
  'github-hmac-sha256': githubVerifier,
  'slack-signing-secret': slackVerifier,
  'okta-shared-header': oktaVerifier,
  'graph-client-state': graphVerifier,
};

/** The verifiers of a deployment: the defaults plus those that need our vendor apps' secrets. */
export function webhookVerifiersFor(apps: { jira?: { clientId: string; clientSecret: string } }): WebhookVerifiers {
  return { ...DEFAULT_WEBHOOK_VERIFIERS, ...(apps.jira ? { 'jira-jwt': jiraVerifier(apps.jira) } : {}) };
}
