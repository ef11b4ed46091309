/**
 * Okta event hooks as the org delivers them: the one-time verification GET carrying
 * `X-Okta-Verification-Challenge` (the hook is verified only if the body echoes it as
 * `{"verification": …}`), then POSTs of `com.okta.event_hook` with the static `Authorization` value
 * the admin configured on the hook. No signature: that header is the only proof. Okta retries a
 * delivery once on timeout or 5xx with the same `eventId`.
 */
import crypto from 'node:crypto';
import { fetch } from 'undici';
import { postDelivery } from '../shared/http';

export interface EventHook {
  url: string;
  /** The value the admin typed into the hook's Authorization header field. */
  authorization: string;
}

/** Runs the one-time verification; true when the receiver echoed the challenge (Okta marks the hook VERIFIED). */
export async function verifyEventHook(hook: EventHook): Promise<{ status: number; verified: boolean }> {
  const challenge = crypto.randomBytes(24).toString('base64url');
  const response = await fetch(hook.url, {
    headers: { 'x-okta-verification-challenge': challenge, authorization: hook.authorization },
  });
  const body = (await response.json().catch(() => ({}))) as { verification?: unknown };
  return { status: response.status, verified: response.status === 200 && body.verification === challenge };
}

/** The body Okta posts for a batch of System Log events; `eventId` identifies the delivery across retries. */
export function eventHookBody(orgUrl: string, eventTypes: string[], eventId: string = crypto.randomUUID()): string {
  const eventTime = new Date().toISOString();
  return JSON.stringify({
    eventType: 'com.okta.event_hook',
    eventTypeVersion: '1.0',
    cloudEventsVersion: '0.1',
    source: `${orgUrl}/api/v1/eventHooks/who${crypto.randomBytes(7).toString('hex')}`,
    eventId,
    data: {
      events: eventTypes.map((eventType) => ({
        uuid: crypto.randomUUID(),
        published: eventTime,
        eventType,
        version: '0',
        severity: 'INFO',
        legacyEventType: eventType,
        displayMessage: 'Event from the emulated org',
        actor: { id: '00u-emulated', type: 'User', alternateId: 'admin@customer.example' },
        target: [{ id: '00u-target', type: 'User', alternateId: 'user@customer.example' }],
      })),
    },
    eventTime,
    contentType: 'application/json',
  });
}

export function deliverEventHook(hook: EventHook, rawBody: string): Promise<number> {
  return postDelivery(hook.url, rawBody, { authorization: hook.authorization });
}
