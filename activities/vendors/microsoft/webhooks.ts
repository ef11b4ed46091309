/**
 * Graph change-notification receiving, as pure functions the API's receivers import:
 * - the validation handshake (`?validationToken=` → 200 text/plain with the decoded token, < 10 s);
 * - `clientState` checked in constant time on every notification (Graph signs nothing else);
 * - lifecycle notifications (`reauthorizationRequired`, `subscriptionRemoved`, `missed`) told apart
 *   from change notifications. Receivers persist, then answer 202 within 3 s.
 */
import crypto from 'node:crypto';
import { constantTimeEqual } from '../shared';
import type { WebhookVerifier } from '../types';

export interface ValidationReply {
  status: 200;
  contentType: 'text/plain; charset=utf-8';
  body: string;
}

/** The reply to Graph's validation request, or undefined when this is not one. */
export function validationReply(query: URLSearchParams): ValidationReply | undefined {
  // URLSearchParams has already URL-decoded the token, which is what Graph expects back.
  const token = query.get('validationToken');
  return token === null ? undefined : { status: 200, contentType: 'text/plain; charset=utf-8', body: token };
}

/** Constant-time comparison of the received clientState with the one we registered. */
export function clientStateMatches(expected: string, received: unknown): boolean {
  return typeof received === 'string' && constantTimeEqual(expected, received);
}

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';
const LIFECYCLE_EVENTS: ReadonlySet<string> = new Set<LifecycleEvent>([
  'reauthorizationRequired',
  'subscriptionRemoved',
  'missed',
]);

export type GraphNotification =
  | { kind: 'change'; subscriptionId: string; changeType: string; resource: string }
  | { kind: 'lifecycle'; subscriptionId: string; event: LifecycleEvent };

export interface ParsedNotifications {
  accepted: GraphNotification[];
  /** Notifications whose clientState did not match (forged or stale): dropped, counted for the audit. */
  rejected: number;
}

/**
 * Splits a notification POST body into verified notifications. `clientStateFor` returns the
 * clientState we registered for a subscription id (undefined = not ours → rejected).
 */
export function parseNotifications(
  body: unknown,
  clientStateFor: (subscriptionId: string) => string | undefined,
): ParsedNotifications {
  const value = (body as { value?: unknown } | undefined)?.value;
  const result: ParsedNotifications = { accepted: [], rejected: 0 };
  if (!Array.isArray(value)) return result;
  for (const raw of value as Record<string, unknown>[]) {
    const subscriptionId = typeof raw.subscriptionId === 'string' ? raw.subscriptionId : '';
    const expected = clientStateFor(subscriptionId);
    if (expected === undefined || !clientStateMatches(expected, raw.clientState)) {
      result.rejected += 1;
      continue;
    }
    if (typeof raw.lifecycleEvent === 'string' && LIFECYCLE_EVENTS.has(raw.lifecycleEvent)) {
      result.accepted.push({ kind: 'lifecycle', subscriptionId, event: raw.lifecycleEvent as LifecycleEvent });
    } else {
      result.accepted.push({
        kind: 'change',
        subscriptionId,
        changeType: String(raw.changeType ?? ''),
        resource: String(raw.resource ?? ''),
      });
    }
  }
  return result;
}

/**
 * The API's receiver: the validation handshake, then `clientState` (the endpoint's secret) on every
 * notification. Graph sends no delivery id; a notification's id is the hash of the body, its
 * position and the minute it arrived: retries within the minute are deduplicated, a later one at
 * worst triggers one more incremental sync (harmless), and no distinct change is ever dropped.
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
