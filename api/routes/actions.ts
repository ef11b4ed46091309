/**
 * Data out (T19): backend services ask an integration to act at its vendor (create an issue, post
 * to a selected channel, upload an export…), one `vendorActionWorkflow` run per action. Only the
 * row's data-out actions are accepted; the connector enforces the customer controls. The input is
 * customer content: it goes to the run in encrypted payloads and is never logged or audited; the
 * status read answers the vendor's ids and URLs, or the typed failure.
 */
import crypto from 'node:crypto';
import { WorkflowFailedError, WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { VendorId } from '../../activities/vendors/types';
import { failureType } from '../../workflows/failures';
import { workflowIds, type VendorActionInput } from '../../workflows/definitions';
import { callerActor } from '../guard';
import { IdempotencyHeaders, keyedId, keyedRun, keyedStart, requestFingerprint } from '../idempotency';
import { HttpProblem, problemResponses } from '../problem';
import { runLinks, startRun, temporalCall } from '../runs';
import { IntegrationParams, Uuid } from '../schemas';
import type { ApiServices } from '../services';
import { getIntegration } from '../../db/integrations';
import type { Api } from '../types';

/** Plain values only, and a bound on them: an action's input is a few fields, not a payload store. */
const ActionInput = Type.Record(
  Type.String({ pattern: '^[A-Za-z][A-Za-z0-9_]{0,63}$' }),
  Type.Union([Type.String({ maxLength: 20_000 }), Type.Number(), Type.Boolean(), Type.Null()]),
  { maxProperties: 20 },
);
const ActionName = Type.String({ pattern: '^[a-z][a-z0-9-]{0,63}$' });
/** Ids and URLs the vendor answered: no content. */
const ActionResult = Type.Record(
  Type.String(),
  Type.Union([Type.String(), Type.Number(), Type.Boolean(), Type.Null()]),
);

const ActionParams = Type.Object({ ...IntegrationParams.properties, actionId: Uuid });

const ActionState = Type.Object({
  integrationId: Uuid,
  actionId: Uuid,
  workflowId: Type.String(),
  status: Type.String(),
  result: Type.Optional(ActionResult),
  failure: Type.Optional(Type.String()),
  links: Type.Object({ temporalUi: Type.String(), status: Type.String() }),
});

export function registerActionRoutes(app: Api, services: ApiServices): void {
  const { temporal } = services;
  const actionUrl = (workspaceId: string, integrationId: string, actionId: string) =>
    `/v1/workspaces/${workspaceId}/integrations/${integrationId}/actions/${actionId}`;

  const connectedIntegration = async (
    request: FastifyRequest,
    params: { workspaceId: string; integrationId: string },
  ) => {
    request.auditFacts.integrationId = params.integrationId;
    const row = await getIntegration(services.db, params.workspaceId, params.integrationId);
    if (!row) throw new HttpProblem(404, 'No such integration in this workspace');
    request.auditFacts.vendor = row.vendor;
    if (row.status !== 'connected')
      throw new HttpProblem(409, `The integration is ${row.status}: it performs no actions`, {
        errorClass: 'NotConnected',
      });
    const descriptor = services.vendors.get(row.vendor as VendorId)?.descriptor;
    if (!descriptor) throw new HttpProblem(409, `Vendor "${row.vendor}" is not served by this deployment`);
    return { row, descriptor };
  };

  app.post(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/actions',
    {
      schema: {
        tags: ['actions'],
        summary:
          "Data out: one action of the vendor row's data-out list (joins the first attempt of an Idempotency-Key)",
        params: IntegrationParams,
        headers: IdempotencyHeaders,
        body: Type.Object({ action: ActionName, input: ActionInput }, { additionalProperties: false }),
        response: { 202: ActionState, ...problemResponses(404, 409, 422) },
      },
      config: { access: { action: 'integration.action', permission: 'operate' } },
    },
    async (request, reply) => {
      const { workspaceId, integrationId } = request.params;
      const { descriptor } = await connectedIntegration(request, request.params);
      const { action, input } = request.body;
      if (!descriptor.dataOut.includes(action)) {
        throw new HttpProblem(422, `${descriptor.displayName} has no data-out action "${action}"`, {
          errors: [{ pointer: '/body/action', detail: `one of ${descriptor.dataOut.join(', ') || '(none)'}` }],
        });
      }
      const actor = callerActor(request);
      const key = request.headers['idempotency-key'];
      const actionId = key ? keyedId('action', workspaceId, actor.id, key) : crypto.randomUUID();
      const workflowId = workflowIds.action(workspaceId, integrationId, actionId);
      request.auditFacts.workflowId = workflowId;
      const fingerprint = key ? requestFingerprint({ action, input }) : undefined;
      const links = { ...runLinks(temporal, workflowId), status: actionUrl(workspaceId, integrationId, actionId) };
      if (fingerprint && (await keyedRun(temporal, workflowId, fingerprint))) {
        return reply.status(202).send({ integrationId, actionId, workflowId, status: 'accepted', links });
      }
      const args: VendorActionInput = { workspaceId, integrationId, vendor: descriptor.id, action, input, actor };
      await startRun(temporal, {
        workflowType: 'vendorActionWorkflow',
        workflowId,
        args: [args],
        process: 'action',
        workspaceId,
        integrationId,
        vendor: descriptor.id,
        ...(fingerprint ? keyedStart(fingerprint) : { ifRunning: 'conflict' as const }),
      });
      if (fingerprint) await keyedRun(temporal, workflowId, fingerprint);
      return reply.status(202).send({ integrationId, actionId, workflowId, status: 'accepted', links });
    },
  );

  app.get(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/actions/:actionId',
    {
      schema: {
        tags: ['actions'],
        summary:
          "An action's outcome: running, completed with the vendor's ids and URLs, or failed with its failure type",
        params: ActionParams,
        response: { 200: ActionState, ...problemResponses(404) },
      },
      config: { access: { action: 'integration.action-status', permission: 'read' } },
    },
    async (request) => {
      const { workspaceId, integrationId, actionId } = request.params;
      request.auditFacts.integrationId = integrationId;
      const workflowId = workflowIds.action(workspaceId, integrationId, actionId);
      const handle = temporal.client.workflow.getHandle(workflowId);
      const base = {
        integrationId,
        actionId,
        workflowId,
        links: { ...runLinks(temporal, workflowId), status: actionUrl(workspaceId, integrationId, actionId) },
      };
      let status: string;
      try {
        status = (await temporalCall(temporal, () => handle.describe())).status.name;
      } catch (error) {
        if (error instanceof HttpProblem && error.status === 409)
          throw new HttpProblem(404, 'No such action for this integration');
        throw error;
      }
      if (status === 'RUNNING') return { ...base, status: 'running' };
      try {
        return {
          ...base,
          status: 'completed',
          result: (await handle.result()) as Record<string, string | number | boolean | null>,
        };
      } catch (error) {
        if (error instanceof WorkflowFailedError)
          return { ...base, status: 'failed', failure: failureType(error) ?? 'Failed' };
        if (error instanceof WorkflowNotFoundError) throw new HttpProblem(404, 'No such action for this integration');
        return { ...base, status: status.toLowerCase() };
      }
    },
  );
}
