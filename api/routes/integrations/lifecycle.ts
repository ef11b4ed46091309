/** Lifecycle writes: rotate the credential now (T8), disconnect with a purge deadline (T4, T15). */
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
