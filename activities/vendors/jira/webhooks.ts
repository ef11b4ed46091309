/**
 * Jira dynamic-webhook verification for the API's receiver (T21) and the deletions deliveries carry
 * (`jira:issue_deleted` is Jira's only delete signal). OAuth-app deliveries carry
 * `Authorization: Bearer <JWT>`, HS256-signed with the app's client secret; we check signature,
 * `exp` and that `iss` is our app. `X-Atlassian-Webhook-Identifier` is stable across Jira's retries:
 * the replay key, consulted only after the JWT verified, so forged requests cannot burn ids.
 * Limit: the JWT does not cover the body, so a delivery is only a trigger: what we store is always
 * re-read through the API under the project allow-list, never taken from the payload.
 */
import { DEDUP_IN_RECEIVER, verifyHs256Jwt, type ReplayGuard } from '../shared';
import type { WebhookVerifier } from '../types';

export type JiraWebhookVerification =
  | { ok: true; event: string; deliveryId: string; payload: Record<string, unknown>; matchedWebhookIds: string[] }
  | { ok: false; reason: 'missing-headers' | 'bad-token' | 'wrong-issuer' | 'replayed' | 'bad-payload' };

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

export async function verifyJiraWebhook(input: {
  /** The app's OAuth client secret (signs the delivery JWTs). */
  clientSecret: string;
  /** The app's client id: the JWT's `iss`. */
  clientId: string;
  rawBody: Buffer | string;
  headers: Headers;
  replayGuard: ReplayGuard;
  now?: number;
}): Promise<JiraWebhookVerification> {
  const token = /^Bearer\s+(\S+)$/i.exec(header(input.headers, 'authorization') ?? '')?.[1];
  const deliveryId = header(input.headers, 'x-atlassian-webhook-identifier');
  if (!token || !deliveryId) return { ok: false, reason: 'missing-headers' };
  const claims = await verifyHs256Jwt(token, input.clientSecret, { now: input.now });
  if (!claims) return { ok: false, reason: 'bad-token' };
  if (claims.iss !== input.clientId) return { ok: false, reason: 'wrong-issuer' };
  if (!(await input.replayGuard.firstSeen(`jira:${deliveryId}`))) return { ok: false, reason: 'replayed' };
  try {
    const payload = JSON.parse(
      typeof input.rawBody === 'string' ? input.rawBody : input.rawBody.toString('utf8'),
    ) as Record<string, unknown>;
    if (typeof payload.webhookEvent !== 'string') return { ok: false, reason: 'bad-payload' };
    const matched = Array.isArray(payload.matchedWebhookIds) ? payload.matchedWebhookIds.map(String) : [];
    return { ok: true, event: payload.webhookEvent, deliveryId, payload, matchedWebhookIds: matched };
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
 * The API's receiver. Each delivery carries a JWT signed with OUR app's client secret, which Jira
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
