/**
 * Oracle Primavera P6 EPPM connector: the shared REST client (no npm SDK exists) against the
 * customer's P6 server, as the service account the admin submitted (`baseUrl`, `username`,
 * `password`, read with `basicServiceAccount`). Reads schedules (projects), activities and baselines
 * of the selected projects by scheduled sync; finds deletions by id sweep (`listSourceIds`: P6
 * reports none). T18: the account may see every project of the P6 database, so the admin's
 * `projects` selection is required and is all that is ever read or written. T19: the one data out,
 * an activity's status, goes only while the admin's `status-updates` control is `enabled`, and only
 * to an activity of a selected project.
 */
import { VendorError, VendorFailureType, missingPermission } from '../errors';
import { requireString } from '../shared/actionInput';
import { mapRestError } from '../shared/restClient';
import {
  createServiceAccountCall,
  serviceAccountPollingSteps,
  type ServiceAccountConnectorOptions,
} from '../shared/serviceAccountRest';
import type { AuditedCall, Connector, ConnectorContext } from '../types';
import { ACTIVITY_STATUSES, RESOURCES, p6Api, type P6Api } from './client';
import {
  P6_PROJECTS_CONTROL,
  P6_READ,
  P6_STATUS_UPDATES_CONTROL,
  P6_SYNC_RESOURCES,
  primaveraDescriptor,
  type P6Resource,
} from './descriptor';
import { fetchP6Page } from './sync';

/** `hosts`: where a submitted P6 URL may point (`PRIMAVERA_P6_HOSTS`). */
export type PrimaveraConnectorOptions = ServiceAccountConnectorOptions;

const VENDOR = 'primavera-p6';
/** P6 `ObjectId`s are positive integers. */
const OBJECT_ID = /^[1-9][0-9]{0,17}$/;

function outside(reason: string): VendorError {
  return new VendorError(VendorFailureType.OutsideCustomerControls, VENDOR, reason);
}

/** The admin's selection: required (the account may see every project), every id an ObjectId. */
export function selectedProjects(controls: Record<string, string[]>): string[] {
  const ids = controls[P6_PROJECTS_CONTROL] ?? [];
  if (ids.length === 0) throw outside('no project selection: P6 access is refused until the admin picks projects');
  if (ids.some((id) => !OBJECT_ID.test(id))) throw outside('invalid project ObjectId in the selection');
  return [...new Set(ids)].sort((a, b) => Number(a) - Number(b));
}

function statusUpdatesEnabled(controls: Record<string, string[]>): boolean {
  return (controls[P6_STATUS_UPDATES_CONTROL] ?? []).includes('enabled');
}

/** What P6's 403 means: the account lacks the module access; its 401 a refused sign-in (mapped as every REST vendor). */
const P6_REST_MODULE_ACCESS = 'P6 REST API module access';

function missingAccess(): VendorError {
  return missingPermission(VENDOR, P6_REST_MODULE_ACCESS, {
    message: `the service account lacks ${P6_REST_MODULE_ACCESS} (403)`,
  });
}

/** The requested status update when the row and the admin allow it; a refusal names why. */
function statusUpdateOf(
  ctx: ConnectorContext,
  action: string,
  input: Record<string, unknown>,
): { activityId: string; status: string } {
  if (action !== 'status-update') throw outside(`action ${action} is not in the matrix's data out`);
  if (!statusUpdatesEnabled(ctx.controls))
    throw outside('status updates are not enabled for this integration (control "status-updates")');
  selectedProjects(ctx.controls);
  const activityId = requireString(VENDOR, input, 'activityObjectId');
  const status = requireString(VENDOR, input, 'status');
  if (!OBJECT_ID.test(activityId) || !(ACTIVITY_STATUSES as readonly string[]).includes(status))
    throw new VendorError(VendorFailureType.VendorRejected, VENDOR, 'invalid input: activityObjectId or status');
  return { activityId, status };
}

export function createPrimaveraConnector(options: PrimaveraConnectorOptions): Connector {
  const call = createServiceAccountCall({
    ...options,
    family: VENDOR,
    rateLimit: primaveraDescriptor.rateLimit,
    mapError: (error, now) => mapRestError(VENDOR, error, now),
  });

  /** One audited, budgeted call with the P6 API; a 403 names the missing module access. */
  function p6Call<T>(ctx: ConnectorContext, audited: AuditedCall, run: (api: P6Api) => Promise<T>): Promise<T> {
    return call(ctx, audited, (rest) => run(p6Api(rest)), missingAccess);
  }

  function syncResource(resource: string): P6Resource {
    if (!(P6_SYNC_RESOURCES as readonly string[]).includes(resource))
      throw outside(`resource ${resource} is not in the matrix's data in`);
    return resource as P6Resource;
  }

  /** The selected projects the account can see (P6 answers an empty list for one it cannot). */
  async function visibleProjects(ctx: ConnectorContext, projects: readonly string[]): Promise<Set<string>> {
    const rows = await p6Call(ctx, { action: 'project.read', scope: P6_READ }, (api) =>
      api.read(RESOURCES.schedules.path, ['ObjectId'], projects.map((id) => `ObjectId:eq:${id}`).join(' :or: ')),
    );
    return new Set(rows.map((row) => String(row.ObjectId)));
  }

  return {
    vendors: ['primavera-p6'],
    ...serviceAccountPollingSteps(primaveraDescriptor),

    // Signs in (401 otherwise), has REST access (403 otherwise) and sees every selected project.
    async testConnection(ctx) {
      const projects = selectedProjects(ctx.controls);
      const visible = await visibleProjects(ctx, projects);
      const hidden = projects.filter((id) => !visible.has(id));
      if (hidden.length > 0)
        throw missingPermission(VENDOR, `OBS access to project ${hidden.join(', ')}`, {
          message: `the service account has no access to project ${hidden.join(', ')} (grant it through the OBS)`,
        });
    },

    async fetchPage(ctx, input) {
      const resource = syncResource(input.resource);
      const projects = selectedProjects(ctx.controls);
      return fetchP6Page({
        resource,
        projects,
        cursorText: input.cursor,
        read: (fields, filter) =>
          p6Call(ctx, { action: `${resource}.read`, scope: P6_READ }, (api) =>
            api.read(RESOURCES[resource].path, fields, filter),
          ),
      });
    },

    // Every ObjectId of the resource in one selected project a page (cursor: the project's index).
    async listSourceIds(ctx, input) {
      const resource = syncResource(input.resource);
      const projects = selectedProjects(ctx.controls);
      const index = input.cursor ? Number(input.cursor) : 0;
      if (!Number.isSafeInteger(index) || index < 0 || index >= projects.length)
        throw outside('invalid id sweep cursor');
      const spec = RESOURCES[resource];
      const rows = await p6Call(ctx, { action: `${resource}.ids`, scope: P6_READ }, (api) =>
        api.read(spec.path, ['ObjectId', spec.projectField], `${spec.projectField}:eq:${projects[index]}`),
      );
      return {
        ids: rows
          .filter((row) => String(row[spec.projectField]) === projects[index])
          .map((row) => String(row.ObjectId)),
        nextCursor: index + 1 < projects.length ? String(index + 1) : null,
      };
    },

    async listControlChoices(ctx) {
      const rows = await p6Call(ctx, { action: 'project.list', scope: P6_READ }, (api) =>
        api.read(RESOURCES.schedules.path, ['ObjectId', 'Id', 'Name']),
      );
      return {
        choices: rows
          .filter((row) => typeof row.ObjectId === 'number')
          .map((row) => ({
            id: String(row.ObjectId),
            name: `${String(row.Id ?? '')} ${String(row.Name ?? '')}`.trim(),
          })),
        nextCursor: null,
      };
    },

    // T19: an activity's status, only while enabled and only inside the selection. What needs no
    // vendor data is refused (and audited) before any request or budget; the activity's project is
    // then read from P6, not trusted from the input, before the one write.
    async perform(ctx, action, input) {
      const audited = { action, scope: P6_READ };
      let update: { activityId: string; status: string };
      try {
        update = statusUpdateOf(ctx, action, input);
      } catch (error) {
        return ctx.audit(audited, () => Promise.reject(error));
      }
      return p6Call(ctx, audited, async (api) => {
        const [activity] = await api.read(
          RESOURCES.activities.path,
          ['ObjectId', 'ProjectObjectId'],
          `ObjectId:eq:${update.activityId}`,
        );
        if (!activity || !selectedProjects(ctx.controls).includes(String(activity.ProjectObjectId)))
          throw outside('the activity is not in a selected project');
        await api.updateActivities([{ ObjectId: Number(update.activityId), Status: update.status }]);
        return { externalId: update.activityId, status: update.status };
      });
    },
  } satisfies Connector;
}
