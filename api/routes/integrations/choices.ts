/**
 * The admin's picker for the customer control (T18): one page of what the vendor lists for the
 * integration's grant (Slack: its public channels, with whether our app is in each). The API loads
 * no vendor SDK, so the page is read by a short `controlChoicesWorkflow` run on the worker; the
 * answer goes to the admin and is stored nowhere. The selection itself is `PATCH …/controls`.
 */
import crypto from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { Type } from 'typebox';
import { failureType, retryAfterMs } from '../../../workflows/failures';
import { workflowIds } from '../../../workflows/definitions';
import { HttpProblem, problemResponses } from '../../problem';
import { startRun, temporalCall } from '../../runs';
import { IntegrationParams } from '../../schemas';
import type { ApiServices } from '../../services';
import type { Api } from '../../types';
import { loadIntegration } from './shared';
import { descriptorOf } from './vendor';

const ChoicesPage = Type.Object({
  control: Type.String(),
  /** What the admin selected so far. */
  selected: Type.Array(Type.String()),
  choices: Type.Array(
    Type.Object({ id: Type.String(), name: Type.String(), appIsMember: Type.Optional(Type.Boolean()) }),
  ),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});

/** A vendor's opaque cursor (Slack: base64), bounded. */
const Cursor = Type.String({ minLength: 1, maxLength: 500, pattern: '^[A-Za-z0-9_=%+/.:-]+$' });

/** How the run's typed failure reads to the admin. */
function choicesProblem(error: WorkflowFailedError): HttpProblem {
  const type = failureType(error) ?? 'Failed';
  if (type === 'RateLimited') {
    const seconds = Math.max(1, Math.ceil(retryAfterMs(error, 60_000) / 1000));
    return new HttpProblem(429, 'The vendor asks us to slow down; retry after the delay', {
      headers: { 'retry-after': String(seconds) },
      errorClass: type,
    });
  }
  if (type === 'ReauthorizationRequired' || type === 'IntegrationNotActive')
    return new HttpProblem(409, 'The integration must be reconnected before its choices can be listed', {
      errorClass: type,
    });
  if (type === 'NoControlChoices' || type === 'MissingScope' || type === 'OutsideCustomerControls')
    return new HttpProblem(422, 'The vendor offers no list to pick from for this integration', { errorClass: type });
  return new HttpProblem(502, 'The vendor did not answer the listing', { errorClass: type });
}

export function registerChoiceRoutes(app: Api, services: ApiServices): void {
  const { temporal } = services;
  app.get(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/controls/choices',
    {
      schema: {
        tags: ['integrations'],
        summary:
          "One page of the admin's picker for the customer control (Slack: public channels); select with PATCH …/controls",
        params: IntegrationParams,
        querystring: Type.Object({ cursor: Type.Optional(Cursor) }, { additionalProperties: false }),
        response: { 200: ChoicesPage, ...problemResponses(404, 409, 422, 502, 503) },
      },
      config: { access: { action: 'integration.control-choices', permission: 'manage' } },
    },
    async (request) => {
      const { workspaceId, integrationId } = request.params;
      const row = await loadIntegration(services, request, request.params);
      const descriptor = descriptorOf(services, row.vendor, '/vendor');
      if (!descriptor.customerControl.listable)
        throw new HttpProblem(422, `${descriptor.displayName} offers no list to pick its customer control from`, {
          errorClass: 'NoControlChoices',
        });
      if (row.status !== 'connected')
        throw new HttpProblem(409, `The integration is ${row.status}: it lists no choices`, {
          errorClass: 'NotConnected',
        });
      const workflowId = workflowIds.choices(workspaceId, integrationId, crypto.randomUUID());
      request.auditFacts.workflowId = workflowId;
      const page = await request.timing.measure('temporal', () =>
        temporalCall(temporal, async () => {
          const handle = await startRun(temporal, {
            workflowType: 'controlChoicesWorkflow',
            workflowId,
            args: [{ workspaceId, integrationId, vendor: descriptor.id, cursor: request.query.cursor ?? null }],
            process: 'choices',
            workspaceId,
            integrationId,
            vendor: descriptor.id,
            ifRunning: 'conflict',
          });
          try {
            return await handle.result();
          } catch (error) {
            throw error instanceof WorkflowFailedError ? choicesProblem(error) : error;
          }
        }),
      );
      const control = descriptor.customerControl.kind;
      return { control, selected: row.controls?.[control] ?? [], ...page };
    },
  );
}
