/** Sync now (joins the sync in flight) and the progress of the current or last sync. */
import { Type } from 'typebox';
import { requestSync } from '@trackproject/integrations-client/client';
import {
  integrationStateQuery,
  syncProgressQuery,
  workflowIds,
  type SyncProgress,
} from '../../../workflows/definitions';
import type { integrationLifecycleWorkflow } from '../../../workflows/lifecycle';
import type { syncWorkflow } from '../../../workflows/sync';
import { problemResponses } from '../../problem';
import { queryIfRunning, runLinks } from '../../runs';
import { absentBodyIsEmpty, IntegrationParams, RunLinks, Uuid } from '../../schemas';
import type { ApiServices } from '../../services';
import type { Api } from '../../types';
import { SyncProgressSchema, writeResponses } from './schemas';
import { callLifecycle, loadIntegration, statusUrl } from './shared';

const IDLE: SyncProgress = { state: 'idle', pages: 0, recordsUpserted: 0, recordsDeleted: 0, rateLimitWaits: 0 };

export function registerSyncRoutes(app: Api, services: ApiServices): void {
  const { temporal } = services;

  app.post(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/sync',
    {
      schema: {
        tags: ['sync'],
        summary: 'Sync now: joins the sync in flight if there is one (idempotent)',
        params: IntegrationParams,
        body: Type.Object(
          {
            resource: Type.Optional(Type.String({ minLength: 1, maxLength: 100, pattern: '^[A-Za-z0-9_.:/-]+$' })),
            full: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: writeResponses,
      },
      preValidation: absentBodyIsEmpty,
      config: { access: { action: 'integration.sync', permission: 'operate' } },
    },
    async (request, reply) => {
      const { workspaceId, integrationId } = request.params;
      const result = await callLifecycle(services, request, request.params, (lifecycle) =>
        requestSync(lifecycle, {
          reason: 'admin',
          ...(request.body.resource ? { resource: request.body.resource } : {}),
          ...(request.body.full ? { full: true } : {}),
        }),
      );
      request.auditFacts.workflowId = result.syncWorkflowId;
      request.auditFacts.vendor = result.vendor;
      return reply.status(202).send({
        integrationId,
        workflowId: result.syncWorkflowId,
        status: result.joined ? 'joined' : 'started',
        joined: result.joined,
        links: {
          ...runLinks(temporal, result.syncWorkflowId),
          status: `${statusUrl(workspaceId, integrationId)}/sync`,
        },
      });
    },
  );

  app.get(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/sync',
    {
      schema: {
        tags: ['sync'],
        summary: 'Progress of the current (or last) sync',
        params: IntegrationParams,
        response: {
          200: Type.Object({
            integrationId: Uuid,
            workflowId: Type.String(),
            progress: SyncProgressSchema,
            links: RunLinks,
          }),
          ...problemResponses(404),
        },
      },
      config: { access: { action: 'integration.sync-progress', permission: 'read' } },
    },
    async (request) => {
      const { workspaceId, integrationId } = request.params;
      await loadIntegration(services, request, request.params);
      const syncId = workflowIds.sync(workspaceId, integrationId);
      const running = await queryIfRunning(temporal, () =>
        temporal.client.workflow.getHandle<typeof syncWorkflow>(syncId).query(syncProgressQuery),
      );
      const last = running
        ? undefined
        : (
            await queryIfRunning(temporal, () =>
              temporal.client.workflow
                .getHandle<typeof integrationLifecycleWorkflow>(workflowIds.lifecycle(workspaceId, integrationId))
                .query(integrationStateQuery),
            )
          )?.lastSync;
      return {
        integrationId,
        workflowId: syncId,
        progress: running ?? last ?? IDLE,
        links: runLinks(temporal, syncId),
      };
    },
  );
}
