/** Integration reads: the database row, plus the live lifecycle and connect state when their runs answer. */
import { Type } from 'typebox';
import type { connectWorkflow } from '../../../workflows/connect';
import { connectStateQuery, integrationStateQuery, workflowIds } from '../../../workflows/definitions';
import type { integrationLifecycleWorkflow } from '../../../workflows/lifecycle';
import { HttpProblem, problemResponses } from '../../problem';
import { queryIfRunning, runLinks } from '../../runs';
import { IntegrationParams, WorkspaceParams } from '../../schemas';
import type { ApiServices } from '../../services';
import { getIntegration, listIntegrations, type IntegrationRow } from '../../../db/integrations';
import type { Api } from '../../types';
import type { VendorId } from '../../../activities/vendors/types';
import { presentConnectState } from './authorize';
import { pollFloorOf } from './schedule';
import { IntegrationSchema } from './schemas';
import { iso } from './shared';

function presentRow(row: IntegrationRow) {
  return {
    integrationId: row.integration_id,
    vendor: row.vendor,
    status: row.status,
    requestedScopes: row.requested_scopes,
    grantedScopes: row.granted_scopes,
    controls: row.controls,
    pollIntervalMs: row.poll_interval_ms ?? undefined,
    connectedBy: row.connected_by ?? undefined,
    connectedAt: iso(row.connected_at),
    disconnectedAt: iso(row.disconnected_at),
    purgeAfter: iso(row.purge_after),
    createdAt: iso(row.created_at),
    updatedAt: iso(row.updated_at),
  };
}

/** T12: the floor a cadence of this integration may not go below now; none for a row that syncs nothing. */
async function pollFloorOfRow(services: ApiServices, row: IntegrationRow): Promise<number | undefined> {
  const descriptor = services.vendors.get(row.vendor as VendorId)?.descriptor;
  if (!descriptor || descriptor.syncResources.length === 0) return undefined;
  return pollFloorOf(services, row.workspace_id, row.integration_id, descriptor);
}

export function registerIntegrationReadRoutes(app: Api, services: ApiServices): void {
  const { temporal } = services;

  app.get(
    '/v1/workspaces/:workspaceId/integrations',
    {
      schema: {
        tags: ['integrations'],
        summary: 'Integrations of the workspace (database state)',
        params: WorkspaceParams,
        response: { 200: Type.Object({ integrations: Type.Array(IntegrationSchema) }), ...problemResponses() },
      },
      config: { access: { action: 'integration.list', permission: 'read' } },
    },
    async (request) => {
      const rows = await listIntegrations(services.db, request.params.workspaceId);
      return {
        integrations: rows.map((row) => ({
          ...presentRow(row),
          links: runLinks(temporal, workflowIds.lifecycle(row.workspace_id, row.integration_id)),
        })),
      };
    },
  );

  app.get(
    '/v1/workspaces/:workspaceId/integrations/:integrationId',
    {
      schema: {
        tags: ['integrations'],
        summary: 'One integration: database state plus the live workflow state',
        params: IntegrationParams,
        response: { 200: IntegrationSchema, ...problemResponses(404) },
      },
      config: { access: { action: 'integration.read', permission: 'read' } },
    },
    async (request) => {
      const { workspaceId, integrationId } = request.params;
      request.auditFacts.integrationId = integrationId;
      const row = await getIntegration(services.db, workspaceId, integrationId);
      const lifecycleId = workflowIds.lifecycle(workspaceId, integrationId);
      const connect = await queryIfRunning(temporal, () =>
        temporal.client.workflow
          .getHandle<typeof connectWorkflow>(workflowIds.connect(workspaceId, integrationId))
          .query(connectStateQuery),
      );
      if (!row) {
        // Between the connect request and the workflow's first write there is no row yet: the run is the truth.
        if (!connect) throw new HttpProblem(404, 'No such integration in this workspace');
        return {
          integrationId,
          vendor: 'unknown',
          status: 'connecting',
          requestedScopes: [],
          grantedScopes: [],
          controls: {},
          connect: presentConnectState(services, request, request.params, connect),
          links: runLinks(temporal, workflowIds.connect(workspaceId, integrationId)),
        };
      }
      request.auditFacts.vendor = row.vendor;
      const pollFloorMs = await pollFloorOfRow(services, row);
      const live = await queryIfRunning(temporal, () =>
        temporal.client.workflow
          .getHandle<typeof integrationLifecycleWorkflow>(lifecycleId)
          .query(integrationStateQuery),
      );
      return {
        ...presentRow(row),
        ...(pollFloorMs !== undefined ? { pollFloorMs } : {}),
        ...(live ? { live: { ...live, subscriptions: live.subscriptions ?? [] } } : {}),
        // A failed run stays shown: a replaced credential that failed its test says why (the current one kept working).
        ...(connect && !['connected', 'expired'].includes(connect.status)
          ? { connect: presentConnectState(services, request, request.params, connect) }
          : {}),
        links: runLinks(temporal, lifecycleId),
      };
    },
  );
}
