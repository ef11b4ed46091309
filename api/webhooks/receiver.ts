/**
 * Webhook receivers: `POST /v1/webhooks/{vendor}/{workspaceId}/{endpointId}` (T21).
 *
 * 1. Bind the workspace from the path and find the endpoint under RLS: another workspace's
 *    endpoint id, an unknown or disabled one is indistinguishable from a forgery (401).
 * 2. Verify the delivery on the raw bytes with the endpoint's signing secret BEFORE reading it.
 * 3. Record the delivery id once (dedup); a repeated id changes nothing.
 * 4. Wake the integration's lifecycle workflow: the payload itself is never stored or forwarded,
 *    the workflow runs an incremental sync against the vendor instead (T3, T11, T14). A delivery
 *    whose signal failed stays unprocessed and the webhook catch-up schedule signals it later.
 * Answers are fast (Graph: 3 s, GitHub: 10 s) because nothing slow happens before them.
 *
 * App-level deliveries, `POST /v1/webhooks/{vendor}` (a GitHub App has one webhook URL for all its
 * installations): verified with the app's secret first, then bound to every workspace whose
 * integration subscribed to the delivery's routing key (`route_app_webhook`, ids only), and from
 * there handled exactly like a per-endpoint delivery, in each of those workspaces.
 */
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { VendorId, VerifiedDelivery, WebhookRequest, WebhookVerifier } from '../../activities/vendors/types';
import { syncRequestedSignal, vendorLifecycleSignal, workflowIds } from '../../workflows/definitions';
import { HttpProblem, problemResponses } from '../problem';
import type { ApiMetrics } from '../metrics';
import type { ApiServices } from '../services';
import { findWebhookEndpoint, markDeliverySignalled, recordDelivery, routeAppWebhook } from '../../db/webhooks';
import type { Api } from '../types';

/** Largest delivery we accept; GitHub caps payloads at 25 MB but the bodies we act on are small. */
const WEBHOOK_BODY_LIMIT = 1024 * 1024;

const Params = Type.Object({
  vendor: Type.String({ pattern: '^[a-z0-9-]{1,40}$' }),
  workspaceId: Type.String({ format: 'uuid' }),
  endpointId: Type.String({ format: 'uuid' }),
});

const Accepted = Type.Object({ received: Type.Integer(), duplicates: Type.Integer() });

/** Same answer for every authentication failure: a prober learns nothing about which part failed. */
const unauthenticated = () =>
  new HttpProblem(401, 'The delivery could not be authenticated', { errorClass: 'SignatureRejected' });

export function registerWebhookReceivers(app: Api, services: ApiServices, metrics: ApiMetrics): void {
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

  /** Records each delivery once (dedup by its id) and wakes the lifecycle; answers how many were repeats. */
  const acceptDeliveries = async (
    request: FastifyRequest,
    target: { workspaceId: string; endpointId: string; integrationId: string; vendor: VendorId },
    deliveries: VerifiedDelivery[],
  ): Promise<number> => {
    const lifecycle = services.temporal.client.workflow.getHandle(
      workflowIds.lifecycle(target.workspaceId, target.integrationId),
    );
    let duplicates = 0;
    for (const delivery of deliveries) {
      const fresh = await recordDelivery(services.db, {
        ...target,
        deliveryId: delivery.deliveryId,
        eventType: delivery.eventType,
      });
      if (!fresh) {
        duplicates += 1;
        continue;
      }
      try {
        if (delivery.lifecycle) await lifecycle.signal(vendorLifecycleSignal, delivery.lifecycle);
        else await lifecycle.signal(syncRequestedSignal, { reason: 'webhook', ...delivery.sync });
      } catch (error) {
        // Left with processed_at unset: the webhook catch-up schedule signals it; the vendor must not retry.
        request.log.warn(
          { err: error, deliveryId: delivery.deliveryId },
          'webhook recorded but lifecycle not signalled',
        );
        continue;
      }
      // Unmarked only costs one more sync from the catch-up schedule: never a failed answer for it.
      await markDeliverySignalled(services.db, {
        workspaceId: target.workspaceId,
        endpointId: target.endpointId,
        deliveryId: delivery.deliveryId,
      }).catch((error: unknown) =>
        request.log.warn({ err: error, deliveryId: delivery.deliveryId }, 'webhook signalled but not marked'),
      );
    }
    return duplicates;
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
        workspaceId: rawWorkspace,
        endpointId,
      } = request.params as { vendor: string; workspaceId: string; endpointId: string };
      const workspaceId = rawWorkspace.toLowerCase();
      const { vendor, verifier } = verifierFor(vendorParam);
      request.auditFacts.actor = { type: 'vendor', id: vendor };
      request.auditFacts.vendor = vendor;

      const endpoint = await findWebhookEndpoint(services.db, workspaceId, endpointId, vendor);
      if (!endpoint || !endpoint.signing_secret_id) throw unauthenticated();
      // The workspace is now known (the endpoint exists in it): from here on every outcome is audited there.
      request.auditFacts.workspaceId = workspaceId;
      request.auditFacts.integrationId = endpoint.integration_id;
      const secret = (await services.secrets.read(workspaceId, endpoint.signing_secret_id)).toString('utf8');

      const webhookRequest: WebhookRequest = {
        headers: request.headers,
        rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
        query: request.query as Record<string, string | undefined>,
      };
      const challenge = verifier.challenge ? await verifier.challenge(webhookRequest, secret) : undefined;
      if (challenge === 'unauthenticated') throw unauthenticated();
      if (challenge) return { kind: 'challenge' as const, challenge };
      if (method === 'GET')
        throw new HttpProblem(405, 'Deliveries are POSTed; GET only answers verification challenges');

      const deliveries = await verified(vendor, verifier.verify(webhookRequest, secret));

      request.auditFacts.workflowId = workflowIds.lifecycle(workspaceId, endpoint.integration_id);
      const duplicates = await acceptDeliveries(
        request,
        { workspaceId, endpointId, integrationId: endpoint.integration_id, vendor },
        deliveries,
      );
      return { kind: 'accepted' as const, received: deliveries.length - duplicates, duplicates };
    };

    const schema = {
      tags: ['webhooks'],
      security: [],
      params: Params,
      response: { 202: Accepted, 200: Type.String(), ...problemResponses(404, 405, 413) },
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
            'Receive an app-level vendor webhook (one URL per vendor app, e.g. a GitHub App): verified with the app secret, then routed to the subscribed workspaces',
          params: Type.Object({ vendor: Params.properties.vendor }),
          response: { 202: Accepted, ...problemResponses(404, 413) },
        },
        config: { access: { action: 'webhook.receive', permission: 'public' } },
      },
      async (request, reply) => {
        const { vendor, verifier } = verifierFor((request.params as { vendor: string }).vendor);
        const appSecret = services.appWebhookSecrets[vendor];
        if (!appSecret || !verifier.appRoutingKey)
          throw new HttpProblem(404, `Vendor "${vendor}" has no app-level webhook`);
        request.auditFacts.actor = { type: 'vendor', id: vendor };
        request.auditFacts.vendor = vendor;
        const webhookRequest: WebhookRequest = {
          headers: request.headers,
          rawBody: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
          query: request.query as Record<string, string | undefined>,
        };
        const deliveries = await verified(vendor, verifier.verify(webhookRequest, appSecret));
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
