/**
 * Procore webhook deliveries for the API's receiver (T21). Procore signs nothing (no HMAC): each
 * hook is created with `destination_headers`, which Procore sends back verbatim on every
 * delivery. We register one header, `Authorization: Bearer <token>`, the token derived from the
 * endpoint's own secret (the secret never leaves us), and compare it in constant time. The body is
 * not authenticated beyond that, so a delivery is only a trigger: what we store is re-read through
 * the API under the project selection. Its `timestamp` must lie within Procore's 12-hour retry
 * window (stale → 401), and its `ulid` (stable across Procore's retries) is the dedup key: a
 * repeat inside the window is acknowledged and changes nothing.
 */
import { constantTimeEqual, hmacSha256Hex } from '../shared';
import type { VerifiedDelivery, WebhookVerifier } from '../types';
import type { ProcoreResource } from './descriptor';

type Headers = Record<string, string | string[] | undefined>;

/** Procore retries a failed delivery for up to 12 hours; nothing older is a genuine delivery. */
export const DELIVERY_MAX_AGE_MS = 12 * 60 * 60_000;
/** Clock skew tolerated for deliveries stamped in the future. */
const FUTURE_SKEW_MS = 5 * 60_000;

/** The trigger resource names of our hooks, by the resource each one refreshes. */
export const TRIGGER_RESOURCES: Record<ProcoreResource, string> = {
  projects: 'Projects',
  rfis: 'RFIs',
  drawings: 'Drawings',
  'daily-logs': 'Notes Logs',
};
export const TRIGGER_EVENTS = ['create', 'update', 'delete'] as const;

/** The destination header value a hook is created with: derived from the endpoint's secret. */
export function procoreDestinationToken(endpointSecret: string): string {
  return hmacSha256Hex(endpointSecret, 'procore-destination-header');
}

export function procoreDestinationHeaders(endpointSecret: string): Record<string, string> {
  return { Authorization: `Bearer ${procoreDestinationToken(endpointSecret)}` };
}

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export interface ProcoreDelivery {
  ulid: string;
  eventType: string;
  resource: ProcoreResource | undefined;
  projectId: string;
  timestampMs: number;
}

/** The delivery's fields we act on, or undefined when it is not a Procore delivery. */
export function procoreDelivery(rawBody: Buffer): ProcoreDelivery | undefined {
  let payload: Record<string, unknown>;
  try {
    payload = JSON.parse(rawBody.toString('utf8')) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const ulid = payload?.ulid;
  const eventType = payload?.event_type;
  const resourceName = payload?.resource_name ?? payload?.resource_type;
  const timestampMs = typeof payload?.timestamp === 'string' ? Date.parse(payload.timestamp) : NaN;
  if (
    typeof ulid !== 'string' ||
    !/^[0-9A-Za-z]{10,40}$/.test(ulid) ||
    typeof eventType !== 'string' ||
    !(TRIGGER_EVENTS as readonly string[]).includes(eventType) ||
    typeof resourceName !== 'string' ||
    !Number.isFinite(timestampMs)
  )
    return undefined;
  const resource = (Object.keys(TRIGGER_RESOURCES) as ProcoreResource[]).find(
    (key) => TRIGGER_RESOURCES[key] === resourceName,
  );
  return { ulid, eventType, resource, projectId: String(payload.project_id ?? ''), timestampMs };
}

export function verifyProcoreDelivery(
  request: { headers: Headers; rawBody: Buffer },
  endpointSecret: string,
  now = Date.now(),
): VerifiedDelivery[] | undefined {
  const presented = /^Bearer\s+(\S+)$/i.exec(header(request.headers, 'authorization') ?? '')?.[1];
  if (!presented || !constantTimeEqual(presented, procoreDestinationToken(endpointSecret))) return undefined;
  const delivery = procoreDelivery(request.rawBody);
  if (!delivery || delivery.timestampMs < now - DELIVERY_MAX_AGE_MS || delivery.timestampMs > now + FUTURE_SKEW_MS)
    return undefined;
  return [
    {
      deliveryId: `procore:${delivery.ulid}`,
      eventType: `${delivery.resource ?? 'unknown'}.${delivery.eventType}`,
      // A delete is reported only here: a full round of that resource sweeps it from the cache.
      ...(delivery.resource ? { sync: { resource: delivery.resource, full: delivery.eventType === 'delete' } } : {}),
      // Only a delivery about a selected project is accepted (T18).
      control: { key: 'projects', value: delivery.projectId },
    },
  ];
}

export const procoreVerifier: WebhookVerifier = {
  verify: async (request, secret) => verifyProcoreDelivery(request, secret),
};
