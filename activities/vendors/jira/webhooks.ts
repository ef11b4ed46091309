/**
 * Jira dynamic-webhook verification for the API's receiver (T21) and the deletions deliveries carry
 * (`jira:issue_deleted` is Jira's only delete signal). OAuth-app deliveries carry
 * `Authorization: Bearer <JWT>`, HS256-signed with the app's client secret: one secret for every
 * customer, so a valid JWT proves only that Jira sent it to one of our endpoints. We check
 * signature, `exp` and that `iss` is our app, then bind the JWT to the endpoint it was sent to:
 * - each webhook is registered with a per-endpoint URL token (`?token=`, derived from the
 *   endpoint's secret), so the callback URL itself authenticates the endpoint;
 * - the JWT's `qsh` (hash of method, path and query) must be this request's, so a JWT captured at
 *   one endpoint fails at every other; a JWT without `qsh` covers no URL, and then the token is
 *   required.
 * Nothing else in the request is signed (`X-Atlassian-Webhook-Identifier` is not): the replay key
 * is the hash of the JWT's signed part (header and claims, so its `jti`, or its `qsh` and `iat`), a
 * replayed JWT is refused for longer than it lives. Consulted only after the JWT verified, so
 * forged requests cannot burn keys. The JWT does not cover the body either, so a delivery is only
 * a trigger: what we store is always re-read through the API under the project allow-list.
 */
import crypto from 'node:crypto';
import { constantTimeEqual, DEDUP_IN_RECEIVER, hmacSha256Hex, verifyHs256Jwt, type ReplayGuard } from '../shared';
import type { WebhookRequest, WebhookVerifier } from '../types';

export type JiraWebhookVerification =
  | { ok: true; event: string; replayKey: string; payload: Record<string, unknown>; matchedWebhookIds: string[] }
  | {
      ok: false;
      reason: 'missing-headers' | 'bad-token' | 'wrong-issuer' | 'wrong-endpoint' | 'replayed' | 'bad-payload';
    };

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

const sha256Hex = (text: string) => crypto.createHash('sha256').update(text).digest('hex');

/** The query parameter of the per-endpoint URL token. */
const URL_TOKEN_PARAM = 'token';

/** The endpoint's URL token: derived from its secret, so the secret itself never leaves us. */
const jiraUrlToken = (endpointSecret: string) => hmacSha256Hex(endpointSecret, 'jira-webhook-url-token');

/** The URL a Jira webhook is registered with: the endpoint's route plus its URL token. */
export function jiraCallbackUrl(callbackUrl: string, endpointSecret: string): string {
  const url = new URL(callbackUrl);
  url.searchParams.set(URL_TOKEN_PARAM, jiraUrlToken(endpointSecret));
  return url.toString();
}

/** RFC 3986 percent-encoding, as Atlassian's canonical request uses it. */
const rfc3986 = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Atlassian's query string hash: SHA-256 of the canonical request `METHOD&path&query`, the path
 * without trailing slash (`&` escaped), the query sorted by key with repeated values joined by
 * commas and the `jwt` parameter left out.
 */
function atlassianQsh(method: string, pathAndQuery: string): string {
  const url = new URL(pathAndQuery, 'http://qsh.invalid');
  const path = (url.pathname.replace(/\/+$/, '') || '/').replaceAll('&', '%26');
  const values = new Map<string, string[]>();
  for (const [key, value] of url.searchParams)
    if (key !== 'jwt') values.set(rfc3986(key), [...(values.get(rfc3986(key)) ?? []), rfc3986(value)]);
  const query = [...values.keys()]
    .sort()
    .map((key) => `${key}=${values.get(key)!.sort().join(',')}`)
    .join('&');
  return sha256Hex(`${method.toUpperCase()}&${path}&${query}`);
}

/** The JWT was issued for this endpoint: its `qsh` is this request's, or, without one, the URL carries the endpoint's token. */
function boundToEndpoint(
  claims: Record<string, unknown>,
  request: { method: string; url: string },
  endpointSecret: string,
) {
  const presented = new URL(request.url, 'http://qsh.invalid').searchParams.get(URL_TOKEN_PARAM);
  if (presented !== null && !constantTimeEqual(presented, jiraUrlToken(endpointSecret))) return false;
  if (typeof claims.qsh === 'string') return constantTimeEqual(claims.qsh, atlassianQsh(request.method, request.url));
  return presented !== null;
}

export async function verifyJiraWebhook(input: {
  /** The app's OAuth client secret (signs the delivery JWTs). */
  clientSecret: string;
  /** The app's client id: the JWT's `iss`. */
  clientId: string;
  /** The receiving endpoint's own secret (its URL token is derived from it). */
  endpointSecret: string;
  request: Pick<WebhookRequest, 'method' | 'url' | 'headers'> & { rawBody: Buffer | string };
  replayGuard: ReplayGuard;
  now?: number;
}): Promise<JiraWebhookVerification> {
  const { request } = input;
  const token = /^Bearer\s+(\S+)$/i.exec(header(request.headers, 'authorization') ?? '')?.[1];
  if (!token) return { ok: false, reason: 'missing-headers' };
  const claims = await verifyHs256Jwt(token, input.clientSecret, { now: input.now });
  if (!claims) return { ok: false, reason: 'bad-token' };
  if (claims.iss !== input.clientId) return { ok: false, reason: 'wrong-issuer' };
  if (!boundToEndpoint(claims, request, input.endpointSecret)) return { ok: false, reason: 'wrong-endpoint' };
  // The signed part (header.claims); the signature segment is left out, its base64url is malleable.
  const replayKey = `sha256:${sha256Hex(token.slice(0, token.lastIndexOf('.')))}`;
  if (!(await input.replayGuard.firstSeen(`jira:${replayKey}`))) return { ok: false, reason: 'replayed' };
  try {
    const payload = JSON.parse(
      typeof request.rawBody === 'string' ? request.rawBody : request.rawBody.toString('utf8'),
    ) as Record<string, unknown>;
    if (typeof payload.webhookEvent !== 'string') return { ok: false, reason: 'bad-payload' };
    const matched = Array.isArray(payload.matchedWebhookIds) ? payload.matchedWebhookIds.map(String) : [];
    return { ok: true, event: payload.webhookEvent, replayKey, payload, matchedWebhookIds: matched };
  } catch {
    return { ok: false, reason: 'bad-payload' };
  }
}

export interface JiraWebhookDeletions {
  /** Records to drop from the cache, by sync resource (external ids as `fetchPage` emits them). */
  deletions: Array<{ resource: 'issues'; externalIds: string[] }>;
}

/** Deletions a verified delivery reports: `jira:issue_deleted` → the issue's id. */
export function jiraWebhookDeletions(event: string, payload: Record<string, unknown>): JiraWebhookDeletions {
  const id = (payload.issue as { id?: unknown } | undefined)?.id;
  if (event !== 'jira:issue_deleted' || (typeof id !== 'string' && typeof id !== 'number')) return { deletions: [] };
  return { deletions: [{ resource: 'issues', externalIds: [String(id)] }] };
}

/**
 * The API's receiver. Each delivery carries a JWT signed with OUR app's client secret; the
 * endpoint's secret reaches Jira only as the URL token it derives, and `qsh` binds the JWT to that
 * URL. The JWT does not cover the body, so a delivery only triggers a sync that re-reads data
 * through the API under the project allow-list.
 */
export function jiraVerifier(app: { clientId: string; clientSecret: string }): WebhookVerifier {
  return {
    async verify(request, secret) {
      const verified = await verifyJiraWebhook({
        ...app,
        endpointSecret: secret,
        request,
        replayGuard: DEDUP_IN_RECEIVER,
      });
      if (!verified.ok) return undefined;
      const { deletions } = jiraWebhookDeletions(verified.event, verified.payload);
      const deleted = deletions.find((d) => d.externalIds.length > 0);
      return [
        {
          deliveryId: verified.replayKey,
          eventType: verified.event,
          ...(deleted ? { sync: { resource: deleted.resource, full: true } } : {}),
        },
      ];
    },
  };
}
