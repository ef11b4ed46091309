/**
 * Scheduled polling at the customer's cadence (T12), through the real API on the time-skipping
 * server: an admin sets the cadence with `PUT …/schedule`, the running lifecycle (real workflows,
 * real activities, real Postgres) polls at exactly that cadence, and a cadence below the floor
 * derived from the row's request budget and its last sync's pages is refused with 422 naming it.
 * Each row runs with its own descriptor (budget, resources, scopes); its vendor calls are served
 * by the in-memory connector, since the cadence is the lifecycle's and the floor the row's budget's.
 */
import crypto from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { accDescriptor, docsDescriptor, tandemDescriptor } from '../../activities/vendors/autodesk';
import { githubDescriptor } from '../../activities/vendors/github';
import { budgetSharingRows } from '../../activities/vendors/catalog';
import { googleDescriptors } from '../../activities/vendors/google';
import { jiraDescriptor } from '../../activities/vendors/jira';
import { microsoftDescriptors } from '../../activities/vendors/microsoft';
import { oktaDescriptor } from '../../activities/vendors/okta';
import { oracleErpDescriptor } from '../../activities/vendors/oracle-erp';
import { primaveraDescriptor } from '../../activities/vendors/primavera-p6';
import { procoreDescriptor } from '../../activities/vendors/procore';
import { sapDescriptor } from '../../activities/vendors/sap';
import { slackDescriptor } from '../../activities/vendors/slack';
import type { VendorDescriptor, VendorId } from '../../activities/vendors/types';
import { MemoryConnector } from '../../dev/memoryConnector';
import { POLLING_BUDGET_SHARE, rowPollFloorMs } from '../../lib/pollFloor';
import { integrationStateQuery, workflowIds } from '../../workflows/definitions';
import { bearer, createHarness as createApiHarness, type Harness as ApiHarness } from '../api/support/harness';
import { ownTimeSkippingEnv, testWorker, uniqueTaskQueue } from '../support/temporal';
import { createVendorHarness, seedConnectedIntegration, type VendorHarness } from './support/harness';
import { pollUntil, stopLifecycleWhenIdle } from './support/workflowHelpers';

const MINUTE = 60_000;
/** The built rows whose lifecycle syncs something: each can be polled. */
const POLLED_ROWS: ReadonlyArray<[VendorId, VendorDescriptor]> = [
  ['github', githubDescriptor],
  ['jira', jiraDescriptor],
  ['microsoft365', microsoftDescriptors.microsoft365],
  ['sharepoint', microsoftDescriptors.sharepoint],
  ['onedrive', microsoftDescriptors.onedrive],
  ['google-drive', googleDescriptors['google-drive']],
  ['procore', procoreDescriptor],
  ['autodesk-acc', accDescriptor],
  ['autodesk-docs', docsDescriptor],
  ['autodesk-tandem', tandemDescriptor],
  ['sap', sapDescriptor],
  ['oracle-erp', oracleErpDescriptor],
  ['primavera-p6', primaveraDescriptor],
];
/** The built rows that sync no data (sign-in, notifications): no cadence to set. */
const UNPOLLED_ROWS: ReadonlyArray<[VendorId, VendorDescriptor]> = [
  ['teams', microsoftDescriptors.teams],
  ['entra', microsoftDescriptors.entra],
  ['google-workspace', googleDescriptors['google-workspace']],
  ['slack', slackDescriptor],
  ['okta', oktaDescriptor],
];

describe('scheduled polling through the API (time-skipping server, real Postgres)', () => {
  let env: TestWorkflowEnvironment;
  let h: VendorHarness;
  let api: ApiHarness;
  const connectors = new Map(
    POLLED_ROWS.map(([row, descriptor]) => [
      row,
      new MemoryConnector(100, { vendors: [row], listScope: descriptor.scopes.required[0]! }),
    ]),
  );
  beforeAll(async () => {
    // A server of its own: its lifecycles sleep through many cadences and are stopped mid-life, and
    // nothing they leave may hold the clock of the shared server the later files skip on.
    env = await ownTimeSkippingEnv();
    h = createVendorHarness(POLLED_ROWS.map(([row, descriptor]) => ({ descriptor, connector: connectors.get(row)! })));
    api = await createApiHarness({ temporal: { client: env.client, connection: env.nativeConnection } });
  });
  afterAll(async () => {
    await api.close();
    await h.close();
    await env.teardown();
  });

  const seed = (row: VendorId, descriptor: VendorDescriptor) =>
    seedConnectedIntegration(
      h,
      { accessToken: 'seed-access', refreshToken: 'seed-refresh', grantedScopes: [...descriptor.scopes.required] },
      { vendor: row, scopes: [...descriptor.scopes.required] },
      descriptor.authKind === 'service-account' ? 'service-account' : 'oauth-tokens',
    );

  it.each(POLLED_ROWS)(
    'T12 [%s]: the cadence an admin sets through the API is the one the running lifecycle polls at; below the derived floor it is refused with 422 naming the floor',
    async (row, descriptor) => {
      connectors.get(row)!.upsert(`${row}-1`, 'polled');
      const ref = await seed(row, descriptor);
      const url = `/v1/workspaces/${ref.workspaceId}/integrations/${ref.integrationId}/schedule`;
      const headers = bearer(await api.token({ workspaceId: ref.workspaceId, role: 'admin' }));
      const taskQueue = uniqueTaskQueue('schedule');
      const worker = await testWorker({ connection: env.nativeConnection, taskQueue, activities: h.activities });
      await worker.runUntil(async () => {
        const lifecycle = await env.client.workflow.start('integrationLifecycleWorkflow', {
          taskQueue,
          workflowId: workflowIds.lifecycle(ref.workspaceId, ref.integrationId),
          args: [{ ...ref, vendor: row }],
        });
        try {
          // No sync yet: a page per resource under the row's budget, at least one budget window.
          const floor = rowPollFloorMs(descriptor, 0);
          const refused = await api.app.inject({
            method: 'PUT',
            url,
            headers,
            payload: { pollIntervalMs: floor - 1_000 },
          });
          expect(refused.statusCode).toBe(422);
          expect(refused.headers['content-type']).toContain('application/problem+json');
          expect(refused.json()).toMatchObject({ status: 422, pollFloorMs: floor });
          expect(refused.json().detail).toContain(`polling floor of ${floor} ms`);
          expect((await lifecycle.query(integrationStateQuery)).pollIntervalMs).toBeUndefined();

          const cadence = 10 * MINUTE;
          const set = await api.app.inject({ method: 'PUT', url, headers, payload: { pollIntervalMs: cadence } });
          expect(set.statusCode).toBe(200);
          expect(set.json()).toMatchObject({ pollIntervalMs: cadence, pollFloorMs: floor });
          const setAt = await env.currentTimeMs();
          const status = await api.app.inject({ method: 'GET', url: url.replace(/\/schedule$/, ''), headers });
          expect(status.json()).toMatchObject({
            pollIntervalMs: cadence,
            pollFloorMs: floor,
            live: { pollIntervalMs: cadence, pollFloorMs: floor },
          });

          await env.sleep(3 * cadence + cadence / 2);
          await pollUntil(
            () => lifecycle.query(integrationStateQuery),
            (s) => s.lastSync?.state === 'completed' && !s.pendingSync,
          );
          const syncStarts = (await lifecycle.fetchHistory())
            .events!.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes)
            .map((e) => Number(e.eventTime!.seconds) * 1000);
          expect(syncStarts).toHaveLength(3);
          // What each sync cost is kept per resource for the floor: here one page per round.
          const rounds = await h
            .admin('sync_state')
            .where({ integration_id: ref.integrationId })
            .select('round_pages', 'last_round_pages');
          expect(rounds).toHaveLength(descriptor.syncResources.length);
          for (const round of rounds) expect(round).toEqual({ round_pages: '0', last_round_pages: '1' });
          // The first poll one cadence after it was set, then one each cadence (event times are whole seconds).
          const gaps = syncStarts.map((t, i) => t - (i === 0 ? setAt : syncStarts[i - 1]!));
          for (const gap of gaps) {
            expect(gap).toBeGreaterThanOrEqual(cadence - 1_000);
            expect(gap).toBeLessThanOrEqual(cadence + 5_000);
          }
        } finally {
          await stopLifecycleWhenIdle(env.client, ref);
        }
      });
      const audit = await api
        .su('audit_log')
        .where({ integration_id: ref.integrationId, action: 'api.integration.set-schedule' });
      expect(audit.map((a) => [a.actor_type, a.outcome]).sort()).toEqual([
        ['user', 'failure'],
        ['user', 'success'],
      ]);
    },
  );

  it.each(POLLED_ROWS)(
    'T12 [%s]: a costlier last sync raises the floor: the cadence below it is refused with 422 naming the new floor, the floor itself is accepted',
    async (row, descriptor) => {
      const ref = await seed(row, descriptor);
      // The last completed round of every resource cost 200 pages (as `sync_state` records them).
      for (const resource of descriptor.syncResources)
        await h.admin('sync_state').insert({ ...toSyncKey(ref, resource), last_round_pages: 200 });
      const pages = 200 * descriptor.syncResources.length;
      const floor = rowPollFloorMs(descriptor, pages);
      expect(floor).toBe(
        Math.ceil((pages / (descriptor.rateLimit.requestsPerMinute * POLLING_BUDGET_SHARE)) * 60) * 1_000,
      );
      const url = `/v1/workspaces/${ref.workspaceId}/integrations/${ref.integrationId}`;
      const headers = bearer(await api.token({ workspaceId: ref.workspaceId, role: 'admin' }));
      expect((await api.app.inject({ method: 'GET', url, headers })).json()).toMatchObject({ pollFloorMs: floor });
      const refused = await api.app.inject({
        method: 'PUT',
        url: `${url}/schedule`,
        headers,
        payload: { pollIntervalMs: floor - 1_000 },
      });
      expect(refused.statusCode).toBe(422);
      expect(refused.json()).toMatchObject({
        pollFloorMs: floor,
        errors: [{ pointer: '/body/pollIntervalMs', detail: `must be at least ${floor}` }],
      });

      const taskQueue = uniqueTaskQueue('schedule-floor');
      const worker = await testWorker({ connection: env.nativeConnection, taskQueue, activities: h.activities });
      await worker.runUntil(async () => {
        await env.client.workflow.start('integrationLifecycleWorkflow', {
          taskQueue,
          workflowId: workflowIds.lifecycle(ref.workspaceId, ref.integrationId),
          args: [{ ...ref, vendor: row }],
        });
        try {
          const set = await api.app.inject({
            method: 'PUT',
            url: `${url}/schedule`,
            headers,
            payload: { pollIntervalMs: floor },
          });
          expect(set.json()).toMatchObject({ pollIntervalMs: floor, pollFloorMs: floor });
          const stored = await h.admin('integrations').where({ integration_id: ref.integrationId }).first();
          expect(stored.poll_interval_ms).toBe(floor);
        } finally {
          await stopLifecycleWhenIdle(env.client, ref);
        }
      });
    },
  );

  /** A connected integration of `row` in the workspace whose last sync cost `pagesPerResource` on each resource. */
  const seedPolled = async (workspaceId: string, row: VendorDescriptor, pagesPerResource: number) => {
    const integrationId = crypto.randomUUID();
    await h.admin('integrations').insert({
      integration_id: integrationId,
      workspace_id: workspaceId,
      vendor: row.id,
      status: 'connected',
      requested_scopes: [...row.scopes.required],
      granted_scopes: [...row.scopes.required],
      connected_by: 'user-1',
      connected_at: new Date(),
    });
    for (const resource of row.syncResources)
      await h
        .admin('sync_state')
        .insert({ ...toSyncKey({ workspaceId, integrationId }, resource), last_round_pages: pagesPerResource });
    return integrationId;
  };

  it.each(POLLED_ROWS)(
    'T12 [%s]: integrations of the workspace on one vendor budget share it: another one’s last sync raises this floor (422 names it), a disconnected one no longer counts',
    async (row, descriptor) => {
      const ref = await seed(row, descriptor);
      // Another polled row of the family where there is one (Graph: one budget per tenant, whichever row calls).
      const other =
        budgetSharingRows(descriptor).find((sharing) => sharing.id !== row && sharing.syncResources.length > 0) ??
        descriptor;
      const otherId = await seedPolled(ref.workspaceId, other, 200);
      const otherPages = 200 * other.syncResources.length;
      const floor = rowPollFloorMs(descriptor, 0, [
        { resources: other.syncResources.length, lastSyncPages: otherPages },
      ]);
      const pollingPerMinute = descriptor.rateLimit.requestsPerMinute * POLLING_BUDGET_SHARE;
      expect(floor).toBe(Math.ceil(((descriptor.syncResources.length + otherPages) / pollingPerMinute) * 60) * 1_000);
      expect(floor).toBeGreaterThan(rowPollFloorMs(descriptor, 0));

      const url = `/v1/workspaces/${ref.workspaceId}/integrations/${ref.integrationId}`;
      const headers = bearer(await api.token({ workspaceId: ref.workspaceId, role: 'admin' }));
      const floorNow = async () => (await api.app.inject({ method: 'GET', url, headers })).json().pollFloorMs;
      expect(await floorNow()).toBe(floor);
      const refused = await api.app.inject({
        method: 'PUT',
        url: `${url}/schedule`,
        headers,
        payload: { pollIntervalMs: floor - 1_000 },
      });
      expect(refused.statusCode).toBe(422);
      expect(refused.json()).toMatchObject({ status: 422, pollFloorMs: floor });

      // Without `countedPer` the vendor counts per workspace: another workspace's integrations have their own budget.
      if (!descriptor.rateLimit.countedPer) {
        const elsewhere = await seed(row, descriptor);
        await seedPolled(elsewhere.workspaceId, descriptor, 500);
        expect(await floorNow()).toBe(floor);
      }
      await h.admin('integrations').where({ integration_id: otherId }).update({ status: 'disconnected' });
      expect(await floorNow()).toBe(rowPollFloorMs(descriptor, 0));
    },
  );

  it.each(UNPOLLED_ROWS)('T12 [%s]: a row that syncs no data has no cadence to set: 422', async (row, descriptor) => {
    const ref = await seed(row, descriptor);
    const headers = bearer(await api.token({ workspaceId: ref.workspaceId, role: 'admin' }));
    const refused = await api.app.inject({
      method: 'PUT',
      url: `/v1/workspaces/${ref.workspaceId}/integrations/${ref.integrationId}/schedule`,
      headers,
      payload: { pollIntervalMs: 60 * MINUTE },
    });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().detail).toContain('syncs no data');
  });
});

const toSyncKey = (ref: { workspaceId: string; integrationId: string }, resource: string) => ({
  workspace_id: ref.workspaceId,
  integration_id: ref.integrationId,
  resource,
});
