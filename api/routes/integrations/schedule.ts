/**
 * Scheduled polling (T12): the customer's cadence. The floor is derived from the vendor row's
 * request budget and what the last syncs drawing on it cost (`lib/pollFloor.ts`); a cadence below it
 * is refused with 422 naming the floor. The running lifecycle applies a new cadence at once (Update).
 */
import { Type } from 'typebox';
import { budgetSharingRows } from '../../../activities/vendors/catalog';
import type { VendorDescriptor } from '../../../activities/vendors/types';
import { readPollFloorMs } from '../../../db/syncState';
import { withWorkspace } from '../../../db/workspaceScope';
import { setPollIntervalUpdate, workflowIds } from '../../../workflows/definitions';
import { callerActor } from '../../guard';
import { HttpProblem, problemResponses } from '../../problem';
import { runLinks, temporalCall } from '../../runs';
import { IntegrationParams, Uuid } from '../../schemas';
import type { ApiServices } from '../../services';
import type { Api } from '../../types';
import { lifecycleOf, statusUrl } from './shared';
import { descriptorOf } from './vendor';

/** A week: the longest cadence (a sync at least weekly keeps cursors and delta tokens from expiring). */
const MAX_POLL_INTERVAL_MS = 7 * 24 * 60 * 60_000;

export const PollIntervalSchema = Type.Integer({
  minimum: 1_000,
  maximum: MAX_POLL_INTERVAL_MS,
  description:
    "Polling cadence in milliseconds (T12): at least the integration's polling floor (`pollFloorMs`), at most a week",
});

const ScheduleAnswer = Type.Object({
  integrationId: Uuid,
  workflowId: Type.String(),
  pollIntervalMs: Type.Integer({ description: 'The cadence the lifecycle now polls at' }),
  pollFloorMs: Type.Integer({
    description:
      "The floor it was checked against: the vendor's request budget over the pages one round of polling costs (this integration's last sync and those of the workspace's other integrations on the same budget)",
  }),
  links: Type.Object({ temporalUi: Type.String(), status: Type.String() }),
});

/**
 * The integration's polling floor now, from its sync state and that of the workspace's other
 * integrations on the same vendor budget (RLS-bound to the workspace). `integrationId` undefined:
 * one being connected.
 */
export function pollFloorOf(
  services: ApiServices,
  workspaceId: string,
  integrationId: string | undefined,
  descriptor: VendorDescriptor,
): Promise<number> {
  return withWorkspace(services.db, workspaceId, (trx) =>
    readPollFloorMs(trx, integrationId, descriptor, budgetSharingRows(descriptor)),
  );
}

/** T12: a row that syncs something, polled no more often than its floor allows; 422 naming the floor otherwise. */
export function assertCadence(
  descriptor: VendorDescriptor,
  pollIntervalMs: number,
  pollFloorMs: number,
  pointer: string,
): void {
  if (descriptor.syncResources.length === 0) {
    throw new HttpProblem(422, `${descriptor.displayName} syncs no data: it has no polling cadence`, {
      errorClass: 'NotPolled',
      errors: [{ pointer, detail: 'not allowed' }],
    });
  }
  if (pollIntervalMs < pollFloorMs) {
    throw new HttpProblem(
      422,
      `pollIntervalMs ${pollIntervalMs} is below this integration's polling floor of ${pollFloorMs} ms ` +
        `(${descriptor.displayName}'s request budget over the pages its last sync and those of the workspace's ` +
        `other integrations on that budget cost)`,
      { errorClass: 'BelowPollFloor', pollFloorMs, errors: [{ pointer, detail: `must be at least ${pollFloorMs}` }] },
    );
  }
}

export function registerScheduleRoute(app: Api, services: ApiServices): void {
  app.put(
    '/v1/workspaces/:workspaceId/integrations/:integrationId/schedule',
    {
      schema: {
        tags: ['integrations'],
        summary:
          'Set the polling cadence (T12): applied by the running lifecycle at once; 422 names the floor a cadence may not go below',
        params: IntegrationParams,
        body: Type.Object({ pollIntervalMs: PollIntervalSchema }, { additionalProperties: false }),
        response: { 200: ScheduleAnswer, ...problemResponses(404, 409, 422) },
      },
      config: { access: { action: 'integration.set-schedule', permission: 'manage' } },
    },
    async (request) => {
      const { workspaceId, integrationId } = request.params;
      const { row, lifecycle } = await lifecycleOf(services, request, request.params);
      const descriptor = descriptorOf(services, row.vendor, '/vendor');
      const pollFloorMs = await pollFloorOf(services, workspaceId, integrationId, descriptor);
      assertCadence(descriptor, request.body.pollIntervalMs, pollFloorMs, '/body/pollIntervalMs');
      const workflowId = workflowIds.lifecycle(workspaceId, integrationId);
      request.auditFacts.workflowId = workflowId;
      const applied = await temporalCall(services.temporal, () =>
        lifecycle.executeUpdate(setPollIntervalUpdate, {
          args: [{ pollIntervalMs: request.body.pollIntervalMs, actor: callerActor(request) }],
        }),
      );
      return {
        integrationId,
        workflowId,
        pollIntervalMs: applied.pollIntervalMs,
        // The lifecycle's floor: a sync that grew since the check above may have raised it.
        pollFloorMs: applied.pollFloorMs ?? pollFloorMs,
        links: { ...runLinks(services.temporal, workflowId), status: statusUrl(workspaceId, integrationId) },
      };
    },
  );
}
