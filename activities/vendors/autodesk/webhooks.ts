/**
 * APS webhook deliveries for the API's receiver (T21). APS signs each callback with the hook's
 * secret token: `x-adsk-signature: sha1hash=<hex HMAC-SHA1 of the raw body>`. Each of our hooks gets
 * its own token (set on the hook, never the user-wide `/webhooks/v1/tokens` one, which would
 * overwrite the token of every hook the same Autodesk user made for another workspace), derived
 * from the endpoint's secret, which never leaves us. The signature is checked before anything else.
 * APS signs no timestamp header: the event time inside the signed body must lie within our
 * delivery window (stale → 401), and the hash of the signed body is the dedup key. A repeat is
 * refused like a forgery (401): the signature covers only the body, so a captured delivery replays
 * byte for byte; the first one was recorded, so a genuine APS retry of it loses nothing.
 */
import crypto from 'node:crypto';
import { constantTimeEqual, hmacSha256Hex } from '../shared';
import type { VerifiedDelivery, WebhookVerifier } from '../types';

type Headers = Record<string, string | string[] | undefined>;

/** Data Management events our hooks watch on each selected project's top folders (recursive scope). */
export const HOOK_EVENTS = ['dm.version.added', 'dm.version.modified', 'dm.version.deleted'] as const;
/** APS delivers at least once and retries failed callbacks; nothing older than this is accepted. */
export const DELIVERY_MAX_AGE_MS = 48 * 60 * 60_000;
const FUTURE_SKEW_MS = 5 * 60_000;

/** The secret token a hook is created with: derived from the endpoint's secret. */
export function autodeskHookToken(endpointSecret: string): string {
  return hmacSha256Hex(endpointSecret, 'autodesk-hook-token');
}

/** The `x-adsk-signature` value APS sends for `rawBody` signed with `token`. */
export function adskSignature(token: string, rawBody: Buffer | string): string {
  return `sha1hash=${crypto.createHmac('sha1', token).update(rawBody).digest('hex')}`;
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export interface AutodeskDelivery {
  event: (typeof HOOK_EVENTS)[number];
  eventTimeMs: number;
}

/** The fields we act on, or undefined when the body is not an APS Data Management callback. */
export function autodeskDelivery(rawBody: Buffer): AutodeskDelivery | undefined {
  let body: { hook?: { event?: unknown }; payload?: { modifiedTime?: unknown; createdTime?: unknown } };
  try {
    body = JSON.parse(rawBody.toString('utf8')) as typeof body;
  } catch {
    return undefined;
  }
  const event = body?.hook?.event;
  const time = body?.payload?.modifiedTime ?? body?.payload?.createdTime;
  const eventTimeMs = typeof time === 'string' ? Date.parse(time) : NaN;
  if (typeof event !== 'string' || !(HOOK_EVENTS as readonly string[]).includes(event) || !Number.isFinite(eventTimeMs))
    return undefined;
  return { event: event as AutodeskDelivery['event'], eventTimeMs };
}

export function verifyAutodeskDelivery(
  request: { headers: Headers; rawBody: Buffer },
  endpointSecret: string,
  now = Date.now(),
): VerifiedDelivery[] | undefined {
  const presented = header(request.headers, 'x-adsk-signature') ?? '';
  if (!constantTimeEqual(presented, adskSignature(autodeskHookToken(endpointSecret), request.rawBody)))
    return undefined;
  const delivery = autodeskDelivery(request.rawBody);
  if (!delivery || delivery.eventTimeMs < now - DELIVERY_MAX_AGE_MS || delivery.eventTimeMs > now + FUTURE_SKEW_MS)
    return undefined;
  return [
    {
      deliveryId: `autodesk:${crypto.createHash('sha256').update(request.rawBody).digest('hex')}`,
      eventType: delivery.event,
      // A deletion is reported only here: a full round of the documents sweeps it from the cache.
      sync: { resource: 'documents', full: delivery.event === 'dm.version.deleted' },
    },
  ];
}

export const autodeskVerifier: WebhookVerifier = {
  verify: async (request, secret) => verifyAutodeskDelivery(request, secret),
  refuseRepeats: true,
};
