/**
 * T19 data out through the API: only the row's data-out actions start a `vendorActionWorkflow`
 * run (202 with its status link), the outcome is read back as ids/URLs or a typed failure, an
 * Idempotency-Key makes a retried action one run, and the action's content never reaches the
 * audit log or the logs. Workflow doubles on the real dev server, except for the refusal, which
 * runs the real workflow, activities and GitHub connector (against its emulator); real Postgres.
 */
import crypto from 'node:crypto';
import { githubDescriptor } from '../../activities/vendors/github';
import { workflowIds } from '../../workflows/definitions';
import { devServer, testWorker } from '../support/temporal';
import { startGithubHarness } from '../vendors/github/harness';
import { createVendorHarness } from '../workflows/support/harness';
import { receivedQuery } from './support/contractWorkflows';
import { bearer, createHarness, seedIntegration, type Harness } from './support/harness';

describe('data-out actions API (real Postgres + Temporal dev server)', () => {
  let h: Harness;
  const logLines: string[] = [];
  const ws = crypto.randomUUID();
  let service: Record<string, string>;
  let integrationId: string;
  const CANARY = `canary-${crypto.randomUUID()}`;

  beforeAll(async () => {
    h = await createHarness({ logLines });
    service = bearer(await h.token({ workspaceId: ws, role: 'service', sub: 'svc-1' }));
    integrationId = await seedIntegration(h.su, {
      workspaceId: ws,
      vendor: 'github',
      controls: { repos: ['acme/site-a'] },
    });
  });
  afterAll(async () => {
    await h.close();
  });

  const url = () => `/v1/workspaces/${ws}/integrations/${integrationId}/actions`;
  const perform = (payload: unknown, headers: Record<string, string> = {}) =>
    h.app.inject({ method: 'POST', url: url(), headers: { ...service, ...headers }, payload: payload as object });
  const statusOf = (link: string) => h.app.inject({ method: 'GET', url: link, headers: service });

  it('T19: an action of the data-out list starts one run and reads back as completed with the vendor ids; its content is not audited or logged', async () => {
    await h.withWorker(async () => {
      const response = await perform({ action: 'create-issue', input: { repository: 'acme/site-a', title: CANARY } });
      expect(response.statusCode).toBe(202);
      const body = response.json();
      expect(body.workflowId).toBe(workflowIds.action(ws, integrationId, body.actionId));
      expect(body.links.status).toBe(`${url()}/${body.actionId}`);
      const [start] = await h.services.temporal.client.workflow.getHandle(body.workflowId).query(receivedQuery);
      expect(start!.arg).toEqual({
        workspaceId: ws,
        integrationId,
        vendor: 'github',
        action: 'create-issue',
        input: { repository: 'acme/site-a', title: CANARY },
        actor: { type: 'service', id: 'svc-1' },
      });
      await h.services.temporal.client.workflow.getHandle(body.workflowId).result();
      const done = await statusOf(body.links.status);
      expect(done.json()).toMatchObject({
        status: 'completed',
        result: { externalId: 'ext-1', url: 'https://vendor.test/create-issue' },
      });
    });
    const audit = await h.su('audit_log').where({ workspace_id: ws });
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(['api.integration.action', 'api.integration.action-status']),
    );
    expect(JSON.stringify(audit)).not.toContain(CANARY);
    expect(logLines.join('\n')).not.toContain(CANARY);
  });

  it('T19 T18 [github]: an action refused by the real vendor-action path (a repository outside the controls) reads back as failed with its failure type, nothing reaches GitHub; an unknown action id is 404', async () => {
    // The real workflow and activities, the real GitHub connector against its emulator, on the API's task queue.
    const github = await startGithubHarness();
    const vendor = createVendorHarness([{ descriptor: githubDescriptor, connector: github.connector }]);
    const server = await devServer();
    try {
      await vendor.secrets.put({
        workspaceId: ws,
        integrationId,
        kind: 'oauth-tokens',
        state: 'current',
        plaintext: JSON.stringify(await github.connect()),
      });
      const worker = await testWorker({
        connection: server.connection,
        taskQueue: h.taskQueue,
        activities: vendor.activities,
      });
      await worker.runUntil(async () => {
        const body = (
          await perform({ action: 'create-issue', input: { repository: 'acme/site-b', title: 'not ours' } })
        ).json();
        await h.services.temporal.client.workflow
          .getHandle(body.workflowId)
          .result()
          .catch(() => undefined);
        expect((await statusOf(body.links.status)).json()).toMatchObject({
          status: 'failed',
          failure: 'OutsideCustomerControls',
        });
      });
      expect(github.emulator.control.issues('acme/site-b')).toEqual([]);
      const refusal = await h
        .su('audit_log')
        .where({ integration_id: integrationId, direction: 'outbound', action: 'create-issue' })
        .select('outcome', 'error_class');
      expect(refusal).toEqual([{ outcome: 'failure', error_class: 'OutsideCustomerControls' }]);
    } finally {
      await server.close();
      await vendor.close();
      await github.emulator.stop();
    }
    expect((await statusOf(`${url()}/${crypto.randomUUID()}`)).statusCode).toBe(404);
  });

  it('T19: actions outside the data-out list are 422 naming the allowed ones; bad input is 400; a disconnected or unknown integration is 409/404; no run starts', async () => {
    const notData = await perform({ action: 'delete-repository', input: {} });
    expect(notData.statusCode).toBe(422);
    expect(notData.json().errors).toEqual([
      { pointer: '/body/action', detail: 'one of create-issue, create-comment, create-status-check' },
    ]);
    expect((await perform({ action: 'create-issue', input: { nested: { deep: true } } })).statusCode).toBe(400);
    expect(
      (
        await perform({
          action: 'create-issue',
          input: Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`k${i}`, i])),
        })
      ).statusCode,
    ).toBe(400);
    const idle = await seedIntegration(h.su, { workspaceId: ws, vendor: 'github', status: 'disconnected' });
    expect(
      (
        await h.app.inject({
          method: 'POST',
          url: `/v1/workspaces/${ws}/integrations/${idle}/actions`,
          headers: service,
          payload: { action: 'create-issue', input: {} },
        })
      ).statusCode,
    ).toBe(409);
    expect(
      (
        await h.app.inject({
          method: 'POST',
          url: `/v1/workspaces/${ws}/integrations/${crypto.randomUUID()}/actions`,
          headers: service,
          payload: { action: 'create-issue', input: {} },
        })
      ).statusCode,
    ).toBe(404);
  });

  it('T19: with an Idempotency-Key a retried action is the same run (input key order does not matter); the key with other input is 422', async () => {
    await h.withWorker(async () => {
      const key = `action-${crypto.randomUUID()}`;
      const first = await perform(
        { action: 'create-issue', input: { repository: 'acme/site-a', title: 'once', hold: true } },
        { 'idempotency-key': key },
      );
      const handle = h.services.temporal.client.workflow.getHandle(first.json().workflowId);
      const runId = (await handle.describe()).runId;
      const again = await perform(
        { action: 'create-issue', input: { hold: true, title: 'once', repository: 'acme/site-a' } },
        { 'idempotency-key': key },
      );
      expect([first.statusCode, again.statusCode]).toEqual([202, 202]);
      expect(again.json().actionId).toBe(first.json().actionId);
      expect((await handle.describe()).runId).toBe(runId);
      expect(
        (
          await perform(
            { action: 'create-issue', input: { repository: 'acme/site-a', title: 'twice', hold: true } },
            { 'idempotency-key': key },
          )
        ).statusCode,
      ).toBe(422);
      expect((await statusOf(first.json().links.status)).json().status).toBe('running');
      await handle.terminate('test over');
    });
  });
});
