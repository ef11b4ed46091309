/**
 * Okta event hooks for the API's receiver (T21). Okta signs nothing: a hook is authenticated by a
 * static header value set when the hook is created (`Authorization`, our per-endpoint secret),
 * compared in constant time. Before it delivers, Okta verifies the URL once with a GET carrying
 * `X-Okta-Verification-Challenge`, to be echoed as `{"verification": …}`; the header value is
 * checked on that GET too, so a prober cannot learn which endpoints exist. Each delivery carries
 * an `eventId` (stable across Okta's retries): the dedup key. With no signature and no signed
 * timestamp, a captured delivery could be re-posted at will: one whose `eventTime` is outside the
 * delivery window is refused as stale, and a repeated `eventId` is refused too (`refuseRepeats`).
 */
import { constantTimeEqual } from '../shared';
import type { WebhookVerifier } from '../types';

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export function oktaAuthorized(headers: Headers, secret: string): boolean {
  const presented = header(headers, 'authorization');
  return presented !== undefined && constantTimeEqual(presented, secret);
}

/** The one-time verification value to echo, when the request carries one (already authorized). */
export function oktaVerificationChallenge(headers: Headers): string | undefined {
  const value = header(headers, 'x-okta-verification-challenge');
  return value !== undefined && /^[A-Za-z0-9_-]{1,200}$/.test(value) ? value : undefined;
}

/**
 * Okta delivers within seconds and retries once after a 3 s timeout: a delivery older than this is
 * not Okta's. A little future skew is allowed for clocks.
 */
export const OKTA_DELIVERY_WINDOW_MS = 10 * 60_000;
const FUTURE_SKEW_MS = 60_000;

export interface OktaDelivery {
  eventId: string;
  /** When Okta sent it (`eventTime`). */
  eventTime: number;
  /** The events' types, e.g. `user.lifecycle.deactivate`; the payload itself is never kept. */
  eventTypes: string[];
}

/** An event hook delivery (`eventType: com.okta.event_hook`), or undefined for anything else. */
export function oktaDelivery(rawBody: Buffer): OktaDelivery | undefined {
  let payload: { eventType?: unknown; eventId?: unknown; eventTime?: unknown; data?: { events?: unknown } };
  try {
    payload = JSON.parse(rawBody.toString('utf8')) as typeof payload;
  } catch {
    return undefined;
  }
  if (
    payload?.eventType !== 'com.okta.event_hook' ||
    typeof payload.eventId !== 'string' ||
    !/^[A-Za-z0-9_-]{1,100}$/.test(payload.eventId)
  )
    return undefined;
  const eventTime = typeof payload.eventTime === 'string' ? Date.parse(payload.eventTime) : NaN;
  if (Number.isNaN(eventTime)) return undefined;
  const events = Array.isArray(payload.data?.events) ? (payload.data.events as Array<{ eventType?: unknown }>) : [];
  const eventTypes = events
    .map((event) => event.eventType)
    .filter((type): type is string => typeof type === 'string' && /^[a-z_.]{1,100}$/.test(type));
  return eventTypes.length > 0 ? { eventId: payload.eventId, eventTime, eventTypes } : undefined;
}

function withinDeliveryWindow(eventTime: number, now: number): boolean {
  return now - eventTime <= OKTA_DELIVERY_WINDOW_MS && eventTime - now <= FUTURE_SKEW_MS;
}

/** The API's receiver: the static `Authorization` value set at hook creation, on the one-time GET and on every delivery. */
export const oktaVerifier: WebhookVerifier = {
  async challenge(request, secret) {
    const challenge = oktaVerificationChallenge(request.headers);
    if (challenge === undefined) return undefined;
    if (!oktaAuthorized(request.headers, secret)) return 'unauthenticated';
    return { contentType: 'application/json', body: JSON.stringify({ verification: challenge }) };
  },
  refuseRepeats: true,
  async verify(request, secret) {
    if (!oktaAuthorized(request.headers, secret)) return undefined;
    const delivery = oktaDelivery(request.rawBody);
    if (!delivery || !withinDeliveryWindow(delivery.eventTime, Date.now())) return undefined;
    // One delivery per hook call: its events share one id, and each asks for the same sync.
    return [{ deliveryId: delivery.eventId, eventType: delivery.eventTypes.join(',').slice(0, 200) }];
  },
};
