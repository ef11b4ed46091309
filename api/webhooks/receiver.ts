/**
 * Webhook receivers: `POST /v1/webhooks/{vendor}/{workspaceId}/{endpointId}` (T21).
 *
 * 1. Bind the workspace from the path and find the endpoint under RLS: another workspace's
 *    endpoint id, an unknown or disabled one is indistinguishable from a forgery (401).
 * 2. Verify the delivery on the raw bytes with the endpoint's signing secret BEFORE reading it (during
 *    a rotation, T8: the current, the new and the previous version, until the grace window ends);
 *    a delivery about a value outside the integration's current controls is dropped (T18).
 * 3. Record the delivery once, keyed on what the vendor signed (the verifier's dedup key: a hash
 *    of the signed body or token, or an id inside them), so a captured delivery re-posted under a
 *    new unsigned id is a repeat. A repeat is acknowledged (202, counted in `duplicates`) and
 *    changes nothing: vendors stop retrying on a 2xx, and a genuine redelivery is harmless. Schemes
 *    proven by a static header only (Okta) refuse a repeat with 401 instead (`refuseRepeats`).
 * 4. Wake the integration's lifecycle workflow: the payload itself is never stored or forwarded,
 *    the workflow runs an incremental sync against the vendor instead (T3, T11, T14). The fresh
 *    deliveries of one request make one sync request, and each integration has a budget of
 *    webhook-triggered sync signals (a burst, then one a minute, shared by every API instance);
 *    past it the deliveries stay unsignalled and the webhook catch-up schedule wakes the lifecycle
 *    once for all of them, as it does for a delivery whose signal failed.
 * Answers are fast (Graph: 3 s, GitHub: 10 s) because nothing slow happens before them.
 *
 * App-level deliveries, `POST /v1/webhooks/{vendor}` (a GitHub App has one webhook URL for all its
 * installations, a Slack app one Events API Request URL): the app's URL handshake is answered once
 * it verifies (Slack `url_verification`); deliveries are verified with the app's secret first, then bound to every workspace whose
 * integration subscribed to the delivery's routing key (`route_app_webhook`, ids only), and from
 * there handled exactly like a per-endpoint delivery, in each of those workspaces.
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type {
  ChallengeAnswer,
  VendorId,
  VerifiedDelivery,
  WebhookRequest,
  WebhookVerifier,
} from '../../activities/vendors/types';
import {
  mergeSyncRequests,
  syncRequestedSignal,
  vendorLifecycleSignal,
  workflowIds,
} from '../../workflows/definitions';
import { HttpProblem, problemResponses } from '../problem';
import { Uuid } from '../schemas';
import type { ApiMetrics } from '../metrics';
import type { ApiServices } from '../services';
import { getIntegration } from '../../db/integrations';
import { findWebhookEndpoint, markDeliverySignalled, recordDelivery, routeAppWebhook } from '../../db/webhooks';
import { createPostgresRateLimitStore } from '../../db/rateLimits';
import type { Api } from '../types';

/** Largest delivery we accept; GitHub caps payloads at 25 MB but the bodies we act on are small. */
const WEBHOOK_BODY_LIMIT = 1024 * 1024;

const Params = Type.Object({
  vendor: Type.String({ pattern: '^[a-z0-9-]{1,40}$' }),
  workspaceId: Uuid,
  endpointId: Uuid,
});

const Accepted = Type.Object({ received: Type.Integer(), duplicates: Type.Integer() });

/**
 * Webhook-triggered sync signals per integration: a burst of 5, then one a minute. Every signal
 * past it would only queue behind the pending sync the lifecycle already holds; the catch-up
 * schedule (every 5 minutes) signals the deferred deliveries once, so no change is left unsynced.
 */
export const WEBHOOK_SYNC_BUDGET = { capacity: 5, refillPerSecond: 1 / 60 };
/** A verification challenge answered: text (Graph `validationToken`, Slack `url_verification`) or JSON (Okta). */
const ChallengeAnswered = {
  description: "Verification challenge answered, in the vendor's format",
  content: {
    'text/plain': { schema: Type.String() },
    'application/json': { schema: Type.Object({ verification: Type.String() }) },
  },
};

/** Same answer for every authentication failure: a prober learns nothing about which part failed. */
const unauthenticated = () =>
  new HttpProblem(401, 'The delivery could not be authenticated', { errorClass: 'SignatureRejected' });

/** The deliveries the first secret that verifies them proves authentic; undefined when none does. */
async function verifyWithAny(
  verifier: WebhookVerifier,
  request: WebhookRequest,
  secrets: readonly string[],
): Promise<VerifiedDelivery[] | undefined> {
  for (const secret of secrets) {
    const deliveries = await verifier.verify(request, secret);
    if (deliveries !== undefined && deliveries.length > 0) return deliveries;
  }
  return undefined;
}

/** A handshake answered with the first secret it authenticates against; `unauthenticated` when none does. */
async function challengeWithAny(
  verifier: WebhookVerifier,
  request: WebhookRequest,
  secrets: readonly string[],
): Promise<ChallengeAnswer | 'unauthenticated' | undefined> {
  if (!verifier.challenge) return undefined;
  let answer: ChallengeAnswer | 'unauthenticated' | undefined;
  for (const secret of secrets) {
    answer = await verifier.challenge(request, secret);
    if (answer !== 'unauthenticated') return answer;
  }
  return answer;
}

export function registerWebhookReceivers(app: Api, services: ApiServices, metrics: ApiMetrics): void {
  // Vendors address the public URL, which may carry a path prefix a proxy strips: a Jira `qsh` covers it.
  const publicPathPrefix = new URL(services.publicUrl).pathname.replace(/\/+$/, '');
  const webhookRequestOf = (request: FastifyRequest): WebhookRequest => ({
    method: request.method,
    url: `${publicPathPrefix}${request.url}`,
    headers: request.headers,
    rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
    query: request.query as Record<string, string | undefined>,
  });
  const syncBudget = createPostgresRateLimitStore(services.db);
  /** Takes one webhook-sync signal from the integration's budget; false when spent (or unreadable: the catch-up covers it). */
  const syncSignalAllowed = async (request: FastifyRequest, integrationId: string): Promise<boolean> => {
    const key = `webhook-sync:${integrationId}`;
    try {
      const left = await syncBudget.consume([{ key, used: 1, ...WEBHOOK_SYNC_BUDGET }]);
      return left.get(key)! >= 0;
    } catch (error) {
      request.log.warn({ err: error, integrationId }, 'webhook sync budget unreadable: sync deferred to the catch-up');
      return false;
    }
  };

  /** The lifecycle heard about these deliveries; unmarked ones only cost one more sync from the catch-up schedule. */
  const markSignalled = async (
    request: FastifyRequest,
    target: { workspaceId: string; endpointId: string },
    deliveries: VerifiedDelivery[],
  ) => {
    for (const delivery of deliveries)
      await markDeliverySignalled(services.db, { ...target, deliveryId: delivery.deliveryId }).catch((error: unknown) =>
        request.log.warn({ err: error, deliveryId: delivery.deliveryId }, 'webhook signalled but not marked'),
      );
  };

  /**
   * Sends one signal; false when it failed. Left with processed_at unset, the deliveries are
   * signalled by the webhook catch-up schedule: the vendor must not retry.
   */
  const signalled = async (request: FastifyRequest, send: () => Promise<void>): Promise<boolean> =>
    send().then(
      () => true,
      (error: unknown) => {
        request.log.warn({ err: error }, 'webhook recorded but lifecycle not signalled');
        return false;
      },
    );

  /** The deliveries of a signature that verified; anything else is refused (and counted either way, T25). */
  const verified = async (
    vendor: VendorId,
    verification: Promise<VerifiedDelivery[] | undefined>,
  ): Promise<VerifiedDelivery[]> => {
    const deliveries = await verification;
    const accepted = deliveries !== undefined && deliveries.length > 0;
    metrics.webhookDeliveries.inc({ vendor, result: accepted ? 'verified' : 'refused' });
    if (!accepted) throw unauthenticated();
    return deliveries;
  };

  /**
   * T18: deliveries about a value the admin no longer selects (a retry of a Procore hook deleted
   * when the projects were narrowed) are dropped; a request left with none is refused (403).
   */
  const insideControls = async (
    workspaceId: string,
    integrationId: string,
    deliveries: VerifiedDelivery[],
  ): Promise<VerifiedDelivery[]> => {
    if (!deliveries.some((d) => d.control)) return deliveries;
    const controls = (await getIntegration(services.db, workspaceId, integrationId))?.controls ?? {};
    const inside = deliveries.filter((d) => !d.control || (controls[d.control.key] ?? []).includes(d.control.value));
    if (inside.length === 0)
      throw new HttpProblem(403, 'The delivery is about something outside the integration’s customer controls', {
        errorClass: 'OutsideCustomerControls',
      });
    return inside;
  };

  /** Records each delivery once (dedup on its signed key) and wakes the lifecycle; answers how many were repeats. */
  const acceptDeliveries = async (
    request: FastifyRequest,
    target: { workspaceId: string; endpointId: string; integrationId: string; vendor: VendorId },
    deliveries: VerifiedDelivery[],
  ): Promise<number> => {
    const lifecycle = services.temporal.client.workflow.getHandle(
      workflowIds.lifecycle(target.workspaceId, target.integrationId),
    );
    const fresh: VerifiedDelivery[] = [];
    for (const delivery of deliveries) {
      const recorded = await recordDelivery(services.db, {
        ...target,
        deliveryId: delivery.deliveryId,
        eventType: delivery.eventType,
      });
      if (recorded) fresh.push(delivery);
    }
    // Events about the connection itself (uninstall, reauthorization) are each the lifecycle's to judge.
    for (const delivery of fresh.filter((d) => d.lifecycle)) {
      if (await signalled(request, () => lifecycle.signal(vendorLifecycleSignal, delivery.lifecycle!)))
        await markSignalled(request, target, [delivery]);
    }
    const syncs = fresh.filter((d) => !d.lifecycle);
    if (syncs.length === 0) return deliveries.length - fresh.length;
    if (!(await syncSignalAllowed(request, target.integrationId))) {
      request.log.warn(
        {
          workspaceId: target.workspaceId,
          integrationId: target.integrationId,
          vendor: target.vendor,
          deferred: syncs.length,
        },
        'webhook-triggered syncs over the per-integration budget: deferred to the webhook catch-up schedule',
      );
      return deliveries.length - fresh.length;
    }
    const [first, ...rest] = syncs.map((d) => ({ reason: 'webhook' as const, ...d.sync }));
    const syncRequest = rest.reduce(mergeSyncRequests, first!);
    if (await signalled(request, () => lifecycle.signal(syncRequestedSignal, syncRequest)))
      await markSignalled(request, target, syncs);
    return deliveries.length - fresh.length;
  };

  /**
   * The endpoint's signing secrets in force (T8): the current one, and while a rotation runs the new
   * (pending) one the vendor is being handed and the previous one of the grace window. A version
   * retired meanwhile is simply no longer tried.
   */
  const signingSecrets = async (workspaceId: string, integrationId: string): Promise<string[]> => {
    const versions = await services.secrets.usable(workspaceId, integrationId, 'webhook-secret');
    const plaintexts = await Promise.all(
      versions.map((version) =>
        services.secrets.read(workspaceId, version.secretId).then(
          (plaintext) => plaintext.toString('utf8'),
          () => undefined,
        ),
      ),
    );
    return plaintexts.filter((secret): secret is string => secret !== undefined);
  };

  const verifierFor = (vendor: string): { vendor: VendorId; verifier: WebhookVerifier } => {
    // Planned rows keep their receivers: they answer only endpoints that exist, and none can yet.
    const descriptor = services.vendors.get(vendor as VendorId)?.descriptor;
    const verifier = descriptor ? services.webhookVerifiers[descriptor.webhook.scheme] : undefined;
    if (!descriptor || !verifier) throw new HttpProblem(404, `No webhook receiver for vendor "${vendor}"`);
    return { vendor: descriptor.id, verifier };
  };

  app.register(async (scope) => {
    // Signatures are over the exact bytes received: keep every body as a Buffer, whatever its type.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT }, (_request, body, done) =>
      done(null, body),
    );

    const handle = async (request: FastifyRequest, method: 'GET' | 'POST') => {
      const {
        vendor: vendorParam,
        workspaceId,
        endpointId,
      } = request.params as { vendor: string; workspaceId: string; endpointId: string };
      const { vendor, verifier } = verifierFor(vendorParam);
      request.auditFacts.actor = { type: 'vendor', id: vendor };
      request.auditFacts.vendor = vendor;

      const endpoint = await findWebhookEndpoint(services.db, workspaceId, endpointId, vendor);
      if (!endpoint || !endpoint.signing_secret_id) throw unauthenticated();
      // The workspace is now known (the endpoint exists in it): from here on every outcome is audited there.
      request.auditFacts.workspaceId = workspaceId;
      request.auditFacts.integrationId = endpoint.integration_id;
      const secrets = await signingSecrets(workspaceId, endpoint.integration_id);
      if (secrets.length === 0) throw unauthenticated();

      const webhookRequest = webhookRequestOf(request);
      const challenge = await challengeWithAny(verifier, webhookRequest, secrets);
      if (challenge === 'unauthenticated') throw unauthenticated();
      if (challenge) return { kind: 'challenge' as const, challenge };
      if (method === 'GET')
        throw new HttpProblem(405, 'Deliveries are POSTed; GET only answers verification challenges');

      const deliveries = await insideControls(
        workspaceId,
        endpoint.integration_id,
        await verified(vendor, verifyWithAny(verifier, webhookRequest, secrets)),
      );

      request.auditFacts.workflowId = workflowIds.lifecycle(workspaceId, endpoint.integration_id);
      const duplicates = await acceptDeliveries(
        request,
        { workspaceId, endpointId, integrationId: endpoint.integration_id, vendor },
        deliveries,
      );
      if (verifier.refuseRepeats && duplicates === deliveries.length) throw unauthenticated();
      return { kind: 'accepted' as const, received: deliveries.length - duplicates, duplicates };
    };

    const schema = {
      tags: ['webhooks'],
      security: [],
      params: Params,
      response: { 202: Accepted, 200: ChallengeAnswered, ...problemResponses(403, 404, 405, 413) },
    };

    scope.post(
      '/v1/webhooks/:vendor/:workspaceId/:endpointId',
      {
        schema: {
          ...schema,
          summary:
            'Receive a vendor webhook delivery (signature verified, deduplicated, then the lifecycle is signalled)',
        },
        config: { access: { action: 'webhook.receive', permission: 'public' } },
      },
      async (request, reply) => {
        const result = await handle(request, 'POST');
        if (result.kind === 'challenge')
          return reply.status(200).type(result.challenge.contentType).send(result.challenge.body);
        return reply.status(202).send({ received: result.received, duplicates: result.duplicates });
      },
    );

    scope.post(
      '/v1/webhooks/:vendor',
      {
        schema: {
          tags: ['webhooks'],
          security: [],
          summary:
            'Receive an app-level vendor webhook (one URL per vendor app, e.g. a GitHub App, a Slack app): verified with the app secret, then routed to the subscribed workspaces',
          params: Type.Object({ vendor: Params.properties.vendor }),
          response: { 202: Accepted, 200: ChallengeAnswered, ...problemResponses(404, 413) },
        },
        config: { access: { action: 'webhook.receive', permission: 'public' } },
      },
      async (request, reply) => {
        const { vendor, verifier } = verifierFor((request.params as { vendor: string }).vendor);
        // The app's secret, and during an operator rotation the previous one too (both verify, T8).
        const appSecrets = services.appWebhookSecrets[vendor] ?? [];
        if (appSecrets.length === 0 || !verifier.appRoutingKey)
          throw new HttpProblem(404, `Vendor "${vendor}" has no app-level webhook`);
        request.auditFacts.actor = { type: 'vendor', id: vendor };
        request.auditFacts.vendor = vendor;
        const webhookRequest = webhookRequestOf(request);
        // The app's URL handshake (Slack `url_verification`), signed with the app secret like any delivery.
        const challenge = await challengeWithAny(verifier, webhookRequest, appSecrets);
        if (challenge === 'unauthenticated') throw unauthenticated();
        if (challenge) return reply.status(200).type(challenge.contentType).send(challenge.body);
        const deliveries = await verified(vendor, verifyWithAny(verifier, webhookRequest, appSecrets));
        const routingKey = verifier.appRoutingKey(webhookRequest);
        // Authentic but for no connected workspace (another customer's installation, or one already
        // disconnected): acknowledged so the vendor does not retry, and nothing happens.
        const routes = routingKey ? await routeAppWebhook(services.db, vendor, routingKey) : [];
        let received = 0;
        let duplicates = 0;
        request.auditFacts.alsoFor = routes.map((route) => ({
          workspaceId: route.workspaceId,
          integrationId: route.integrationId,
          workflowId: workflowIds.lifecycle(route.workspaceId, route.integrationId),
        }));
        for (const route of routes) {
          const repeated = await acceptDeliveries(request, { ...route, vendor }, deliveries);
          duplicates += repeated;
          received += deliveries.length - repeated;
        }
        return reply.status(202).send({ received, duplicates });
      },
    );

    scope.get(
      '/v1/webhooks/:vendor/:workspaceId/:endpointId',
      {
        schema: { ...schema, summary: 'Answer a webhook verification challenge (e.g. Okta event hooks)' },
        config: { access: { action: 'webhook.challenge', permission: 'public' } },
      },
      async (request, reply) => {
        const result = await handle(request, 'GET');
        if (result.kind !== 'challenge') throw new HttpProblem(405, 'No verification challenge in this request');
        return reply.status(200).type(result.challenge.contentType).send(result.challenge.body);
      },
    );
  });
}
