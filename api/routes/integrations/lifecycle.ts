/**
 * Lifecycle writes: rotate the credential now (T8), set a webhook secret only the customer's admin can
 * set at the vendor (T8), disconnect with a purge deadline (T4, T15).
 */
import { Type } from 'typebox';
import { enabledWebhookEndpoint } from '../../../db/webhooks';
import { withWorkspace } from '../../../db/workspaceScope';
import { MAX_PURGE_DELAY_MS } from '../../../lib/config';
import { disconnectStateQuery, rotatedKinds, rotateNowSignal, workflowIds } from '../../../workflows/definitions';
import { callerActor } from '../../guard';
import { HttpProblem } from '../../problem';
import { queryIfRunning, runLinks, startRun, temporalCall } from '../../runs';
import { IntegrationParams } from '../../schemas';
import type { ApiServices } from '../../services';
import type { Api } from '../../types';
import { writeResponses } from './schemas';
import { iso, lifecycleOf, loadIntegration, statusUrl } from './shared';
import { descriptorOf } from './vendor';

export function registerLifecycleRoutes(app: Api, services: ApiServices): void {
  const { temporal } = services;

  app.post(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/rotate',
    {
      schema: {
        tags: ['integrations'],
        summary: "Rotate the integration's credential now (otherwise rotated on its cadence, T8)",
        params: IntegrationParams,
        response: writeResponses,
      },
      config: { access: { action: 'integration.rotate', permission: 'operate' } },
    },
    async (request, reply) => {
      const { workspaceId, integrationId } = request.params;
      const { row, lifecycle } = await lifecycleOf(services, request, request.params);
      if (rotatedKinds(descriptorOf(services, row.vendor, '/vendor')).length === 0) {
        throw new HttpProblem(422, 'This integration holds no credential of its own to rotate (sign-in only)', {
          errorClass: 'NothingToRotate',
        });
      }
      await temporalCall(temporal, () => lifecycle.signal(rotateNowSignal, { actor: callerActor(request) }));
      const rotateId = workflowIds.rotate(workspaceId, integrationId);
      request.auditFacts.workflowId = rotateId;
      return reply.status(202).send({
        integrationId,
        workflowId: rotateId,
        status: 'requested',
        links: { ...runLinks(temporal, rotateId), status: statusUrl(workspaceId, integrationId) },
      });
    },
  );

  app.put(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/webhook-secret',
    {
      schema: {
        tags: ['integrations'],
        summary:
          'Set the webhook secret the admin configured at the vendor (Okta event hook Authorization value); it verifies at once, the previous one until the grace window ends (T8)',
        params: IntegrationParams,
        body: Type.Object({ value: WebhookSecretValue }, { additionalProperties: false }),
        response: writeResponses,
      },
      config: { access: { action: 'integration.set-webhook-secret', permission: 'manage' } },
    },
    async (request, reply) => {
      const { workspaceId, integrationId } = request.params;
      const row = await loadIntegration(services, request, request.params);
      const descriptor = descriptorOf(services, row.vendor, '/vendor');
      if (descriptor.webhook.secretHolder !== 'customer-admin')
        throw new HttpProblem(422, 'This integration’s webhook secret is set by us at the vendor, not by its admin', {
          errorClass: 'WebhookSecretNotAdmins',
        });
      const endpoint = await withWorkspace(services.db, workspaceId, (trx) =>
        enabledWebhookEndpoint(trx, integrationId),
      );
      if (!endpoint)
        throw new HttpProblem(409, 'The integration has no webhook endpoint', { errorClass: 'NoEndpoint' });
      // One submitted value at a time: the rotation in flight promotes the one before it.
      const versions = await services.secrets.usable(workspaceId, integrationId, 'webhook-secret');
      if (versions.some((version) => version.state === 'pending'))
        throw new HttpProblem(409, 'A webhook secret submitted earlier is still being rotated in; retry when it is', {
          errorClass: 'RotationInProgress',
        });
      // Pending: the receiver verifies with it at once, beside the current one; the rotation promotes it.
      await services.secrets.put({
        workspaceId,
        integrationId,
        kind: 'webhook-secret',
        state: 'pending',
        plaintext: request.body.value,
      });
      const workflowId = workflowIds.rotate(workspaceId, integrationId);
      request.auditFacts.workflowId = workflowId;
      await startRun(temporal, {
        workflowType: 'rotateSecretWorkflow',
        workflowId,
        args: [
          {
            workspaceId,
            integrationId,
            vendor: descriptor.id,
            kind: 'webhook-secret',
            actor: callerActor(request),
            ...(services.webhookSecretGraceMs !== undefined ? { gracePeriodMs: services.webhookSecretGraceMs } : {}),
          },
        ],
        process: 'rotate',
        workspaceId,
        integrationId,
        vendor: row.vendor,
        ifRunning: 'conflict',
      });
      // The value is never answered back: the admin already has it, and nothing else ever returns a secret.
      return reply.status(202).send({
        integrationId,
        workflowId,
        status: 'requested',
        links: { ...runLinks(temporal, workflowId), status: statusUrl(workspaceId, integrationId) },
      });
    },
  );

  app.delete(
    '/v1/workspaces/:workspaceId/integrations/:integrationId',
    {
      schema: {
        tags: ['integrations'],
        summary:
          'Disconnect: revoke at the vendor where possible, clear caches, purge cached data by the deadline (T4, T15)',
        params: IntegrationParams,
        response: writeResponses,
      },
      config: { access: { action: 'integration.disconnect', permission: 'manage' } },
    },
    async (request, reply) => {
      const { workspaceId, integrationId } = request.params;
      const row = await loadIntegration(services, request, request.params);
      const workflowId = workflowIds.disconnect(workspaceId, integrationId);
      request.auditFacts.workflowId = workflowId;
      const purgeDelayMs = Math.min(services.purgeDelayMs, MAX_PURGE_DELAY_MS);
      const handle = await startRun(temporal, {
        workflowType: 'disconnectWorkflow',
        workflowId,
        args: [{ workspaceId, integrationId, actor: callerActor(request), purgeDelayMs }],
        process: 'disconnect',
        workspaceId,
        integrationId,
        vendor: row.vendor,
        ifRunning: 'join',
      });
      const state = await queryIfRunning(temporal, () => handle.query(disconnectStateQuery));
      // The workflow's own deadline once it has one; until then the latest it can be (it clamps to the same bound).
      const purgeDeadline =
        state?.purgeDeadline ?? iso(row.purge_after) ?? new Date(Date.now() + purgeDelayMs).toISOString();
      return reply.status(202).send({
        integrationId,
        workflowId,
        status: state?.status ?? 'stopping',
        purgeDeadline,
        links: { ...runLinks(temporal, workflowId), status: statusUrl(workspaceId, integrationId) },
      });
    },
  );
}

/**
 * A header value the admin typed into the vendor: printable ASCII without outer spaces (an HTTP header
 * value), long enough to be unguessable (Okta compares nothing else) and bounded.
 */
// The length is in the pattern too: generators that follow the pattern (the API fuzz run) then meet the bounds.
const WebhookSecretValue = Type.String({ minLength: 32, maxLength: 512, pattern: '^[!-~][ -~]{30,510}[!-~]$' });
