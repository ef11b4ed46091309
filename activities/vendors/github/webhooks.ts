/**
 * GitHub webhook verification for the API's receiver (T21) and the deletions deliveries carry
 * (GitHub reports deletes only by webhook). `X-Hub-Signature-256` is `sha256=` + HMAC-SHA256 of the
 * raw body with the app's webhook secret. Only the body is signed: `X-GitHub-Delivery` and
 * `X-GitHub-Event` are not, so a captured body and signature re-posted under a new delivery id
 * must still be a repeat. The replay key is therefore the SHA-256 of the signed body; a genuine
 * redelivery resends the same body, so it is a repeat too and changes nothing. (`@octokit/webhooks-methods`
 * implements the same check but ships ESM-only with an `import`-only export map, which the Jest
 * CommonJS resolver cannot load.) The signature is checked before the replay guard sees the key,
 * so forged requests cannot burn keys.
 */
import crypto from 'node:crypto';
import { constantTimeEqual, DEDUP_IN_RECEIVER, hmacSha256Hex, type ReplayGuard } from '../shared';
import type { WebhookVerifier } from '../types';

export type GithubWebhookVerification =
  | {
      ok: true;
      event: string;
      /** GitHub's `X-GitHub-Delivery` (unsigned: for logs, never for dedup). */
      deliveryId: string;
      /** `sha256:` + hex SHA-256 of the signed body: the replay key. */
      replayKey: string;
      payload: Record<string, unknown>;
    }
  | { ok: false; reason: 'missing-headers' | 'bad-signature' | 'replayed' | 'bad-payload' };

type Headers = Record<string, string | string[] | undefined>;

function header(headers: Headers, name: string): string | undefined {
  const value = headers[name] ?? headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** What GitHub signed, hashed: the body. */
const githubReplayKey = (rawBody: Buffer | string) =>
  `sha256:${crypto.createHash('sha256').update(rawBody).digest('hex')}`;

export async function verifyGithubWebhook(input: {
  secret: string;
  rawBody: Buffer | string;
  headers: Headers;
  replayGuard: ReplayGuard;
}): Promise<GithubWebhookVerification> {
  const signature = header(input.headers, 'x-hub-signature-256');
  const deliveryId = header(input.headers, 'x-github-delivery');
  const event = header(input.headers, 'x-github-event');
  if (!signature || !deliveryId || !event) return { ok: false, reason: 'missing-headers' };
  const rawBody = typeof input.rawBody === 'string' ? input.rawBody : input.rawBody.toString('utf8');
  if (!constantTimeEqual(signature, `sha256=${hmacSha256Hex(input.secret, rawBody)}`))
    return { ok: false, reason: 'bad-signature' };
  const replayKey = githubReplayKey(rawBody);
  if (!(await input.replayGuard.firstSeen(`github:${replayKey}`))) return { ok: false, reason: 'replayed' };
  try {
    return { ok: true, event, deliveryId, replayKey, payload: JSON.parse(rawBody) as Record<string, unknown> };
  } catch {
    return { ok: false, reason: 'bad-payload' };
  }
}

export interface GithubWebhookDeletions {
  /** Records to drop from the cache, by sync resource (external ids as `fetchPage` emits them). */
  deletions: Array<{ resource: 'issues' | 'repositories'; externalIds: string[] }>;
  /** The customer uninstalled the app: the integration has lost all access. */
  installationDeleted: boolean;
}

/** Deletions a verified delivery reports: `issues.deleted`, `installation.deleted`, `installation_repositories.removed`. */
export function githubWebhookDeletions(event: string, payload: Record<string, unknown>): GithubWebhookDeletions {
  const ids = (items: unknown): string[] =>
    Array.isArray(items) ? items.map((item) => String((item as { id: number }).id)) : [];
  if (event === 'issues' && payload.action === 'deleted') {
    return { deletions: [{ resource: 'issues', externalIds: ids([payload.issue]) }], installationDeleted: false };
  }
  if (event === 'installation' && payload.action === 'deleted') {
    return {
      deletions: [{ resource: 'repositories', externalIds: ids(payload.repositories) }],
      installationDeleted: true,
    };
  }
  if (event === 'installation_repositories' && payload.action === 'removed') {
    return {
      deletions: [{ resource: 'repositories', externalIds: ids(payload.repositories_removed) }],
      installationDeleted: false,
    };
  }
  return { deletions: [], installationDeleted: false };
}

/** Binds app-level deliveries to the integrations of one installation (`route_app_webhook`). */
export const githubRoutingKey = (installationId: number | string) => `installation:${installationId}`;

/** The API's receiver: `X-Hub-Signature-256` over the raw body; the hash of that body is the dedup key. */
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
    if (installationDeleted) return [{ deliveryId: verified.replayKey, eventType, lifecycle: { event: eventType } }];
    // GitHub reports deletions only by webhook: a full round of the resource reconciles them away.
    const deleted = deletions.find((d) => d.externalIds.length > 0);
    return [
      {
        deliveryId: verified.replayKey,
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
