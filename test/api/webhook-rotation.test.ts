/**
 * T8 for an integration's webhook secret, through the listening API, the real rotation workflow on
 * the dev server and the vendor emulators with the real connectors. Procore: the vendor keeps
 * delivering to our hooks during the rotation (steady traffic), the hooks are switched to the new
 * secret in place (PATCH of their destination headers), deliveries signed with the old secret are
 * still accepted during the grace window and refused after it, and a rotation the vendor refuses
 * puts every hook back on the current secret. Jira (no way to change a live webhook's URL token):
 * the webhook is re-registered with the new token and the old one deleted, under steady traffic.
 * Microsoft Graph (no way to change a live subscription's clientState): the subscriptions are
 * re-registered with the new clientState through the https front and the old ones deleted, under
 * steady notification traffic.
 */
import crypto from 'node:crypto';
import type { Client } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { JIRA_REQUESTED_SCOPES, jiraCallbackUrl, jiraDescriptor } from '../../activities/vendors/jira';
import { microsoftDescriptors } from '../../activities/vendors/microsoft';
import type { VendorId } from '../../activities/vendors/types';
import { PROCORE_READ, procoreDescriptor, procoreDestinationToken } from '../../activities/vendors/procore';
import { rotationStateQuery, workflowIds } from '../../workflows/definitions';
import { startJiraHarness, type JiraHarness } from '../vendors/jira/harness';
import { startMicrosoftHarness, type MicrosoftHarness } from '../vendors/microsoft/harness';
import { startProcoreHarness, type ProcoreHarness } from '../vendors/procore/harness';
import { createVendorHarness, type VendorHarness } from '../workflows/support/harness';
import { withDevServerWorker } from '../workflows/support/vendorEndToEnd';
import { ADMIN, pollUntil, seedWorkspace } from '../workflows/support/workflowHelpers';
import { createHarness, JIRA_APP, type Harness } from './support/harness';

/**
 * Starts a webhook-secret rotation and answers its run once in the grace period: the new secret is
 * promoted and the old one still verifies, for 4 s.
 */
async function rotationInGracePeriod(
  client: Client,
  taskQueue: string,
  ref: { workspaceId: string; integrationId: string },
  vendor: VendorId,
) {
  const handle = await client.workflow.start('rotateSecretWorkflow', {
    taskQueue,
    workflowId: workflowIds.rotate(ref.workspaceId, ref.integrationId),
    args: [{ ...ref, vendor, kind: 'webhook-secret', actor: ADMIN, gracePeriodMs: 4_000 }],
  });
  await pollUntil(
    () => handle.query(rotationStateQuery),
    (state) => state.status === 'grace-period',
    30_000,
  );
  return handle;
}

describe('T8 [procore]: webhook secret rotation under steady traffic (API, real workflows, Procore emulator)', () => {
  const secretsKey = crypto.randomBytes(32);
  let h: Harness;
  let worker: VendorHarness;
  let procore: ProcoreHarness;
  let apiUrl = '';

  beforeAll(async () => {
    h = await createHarness({ secretsKey });
    apiUrl = await h.app.listen({ port: 0, host: '127.0.0.1' });
    procore = await startProcoreHarness();
    // Procore delivers to the listening API; the worker and the API share the secret store's key.
    worker = createVendorHarness([{ descriptor: procoreDescriptor, connector: procore.connector }], {
      key: secretsKey,
      webhookBaseUrl: apiUrl,
    });
  });
  afterAll(async () => {
    await worker.close();
    await procore.emulator.stop();
    await h.close();
  });

  /** A connected Procore integration on Tower A and Depot with its hooks registered by the real activity. */
  async function connectedWithHooks(): Promise<{ workspaceId: string; integrationId: string }> {
    const ref = { workspaceId: await seedWorkspace(worker), integrationId: crypto.randomUUID() };
    const { tower, depot } = procore.projects;
    await worker.admin('integrations').insert({
      integration_id: ref.integrationId,
      workspace_id: ref.workspaceId,
      vendor: 'procore',
      status: 'connected',
      requested_scopes: [PROCORE_READ],
      granted_scopes: [PROCORE_READ],
      controls: JSON.stringify({ projects: [String(tower.id), String(depot.id)] }),
      connected_by: ADMIN.id,
      connected_at: new Date(),
    });
    const credential = await procore.connect();
    await worker.secrets.put({
      ...ref,
      kind: 'oauth-tokens',
      state: 'current',
      plaintext: JSON.stringify(credential),
      expiresAt: new Date(credential.expiresAt!),
    });
    await new MockActivityEnvironment().run(worker.activities.registerWebhooks, ref);
    return ref;
  }

  const hooksOf = (workspaceId: string) =>
    procore.emulator.control.hooks().filter((hook) => hook.destinationUrl.includes(`/${workspaceId}/`));
  const webhookSecrets = async (integrationId: string) =>
    (await worker
      .admin('secrets')
      .where({ integration_id: integrationId, kind: 'webhook-secret' })
      .orderBy('version')
      .select('secret_id', 'state')) as Array<{ secret_id: string; state: string }>;
  const plaintextOf = async (workspaceId: string, secretId: string) =>
    (await worker.secrets.read(workspaceId, secretId)).toString('utf8');

  /**
   * Procore's steady traffic: an RFI of each selected project changes every 20 ms and Procore
   * delivers it to our hooks; every answer the API gave is collected until stopped.
   */
  function steadyTraffic() {
    const { control } = procore.emulator;
    const items = [procore.projects.tower, procore.projects.depot].map(
      (project) => control.addItem(project.id, 'rfis', { subject: `steady ${project.id}`, status: 'open' }).id,
    );
    const statuses: number[] = [];
    let running = true;
    const loop = (async () => {
      for (let i = 0; running; i++) {
        statuses.push(...(await control.deliver(items[i % items.length]!, 'update')));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    return {
      statuses,
      async stop() {
        running = false;
        await loop;
        return statuses;
      },
    };
  }

  /** A fresh delivery (new ulid) to the endpoint, carrying the destination header of `secret`. */
  const deliverSignedWith = async (endpointUrl: string, secret: string) => {
    const body = JSON.stringify({
      id: 1,
      ulid: crypto.randomBytes(13).toString('hex').toUpperCase(),
      timestamp: new Date().toISOString(),
      project_id: procore.projects.tower.id,
      event_type: 'update',
      resource_type: 'RFIs',
      resource_id: 42,
      api_version: 'v2',
    });
    const answer = await fetch(endpointUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${procoreDestinationToken(secret)}` },
      body,
    });
    return answer.status;
  };

  it('T8 [procore]: the webhook secret rotates under steady traffic: no delivery lost, hooks switched in place, the old secret accepted during the grace window and refused after it', async () => {
    const ref = await connectedWithHooks();
    const [original] = await webhookSecrets(ref.integrationId);
    const oldSecret = await plaintextOf(ref.workspaceId, original!.secret_id);
    const hookIds = hooksOf(ref.workspaceId).map((hook) => hook.id);
    expect(hookIds).toHaveLength(2);
    const endpointUrl = hooksOf(ref.workspaceId)[0]!.destinationUrl;
    const traffic = steadyTraffic();
    try {
      await withDevServerWorker(worker, 'webhook-rotation', async ({ client, taskQueue }) => {
        const handle = await rotationInGracePeriod(client, taskQueue, ref, 'procore');
        // Promoted: the endpoint verifies with the new secret, and the hooks (the same ones) send it.
        const versions = await webhookSecrets(ref.integrationId);
        expect(versions.map((v) => v.state)).toEqual(['previous', 'current']);
        const newSecret = await plaintextOf(ref.workspaceId, versions[1]!.secret_id);
        expect(hooksOf(ref.workspaceId).map((hook) => hook.id)).toEqual(hookIds);
        for (const hook of hooksOf(ref.workspaceId))
          expect(hook.destinationHeaders.Authorization).toBe(`Bearer ${procoreDestinationToken(newSecret)}`);
        // A retry Procore signed before the switch still verifies during the window.
        expect(await deliverSignedWith(endpointUrl, oldSecret)).toBe(202);
        expect(await deliverSignedWith(endpointUrl, newSecret)).toBe(202);

        const duringWindow = traffic.statuses.length;
        expect(duringWindow).toBeGreaterThan(0);

        expect(await handle.result()).toEqual({ status: 'rotated', newVersion: 2 });
        expect((await webhookSecrets(ref.integrationId)).map((v) => v.state)).toEqual(['retired', 'current']);
        // The window is over: the old secret is refused, the new one accepted.
        expect(await deliverSignedWith(endpointUrl, oldSecret)).toBe(401);
        expect(await deliverSignedWith(endpointUrl, newSecret)).toBe(202);
        // Procore keeps delivering after the window too.
        await pollUntil(
          async () => traffic.statuses.length,
          (count) => count >= duringWindow + 10,
          30_000,
        );
      });
    } finally {
      await traffic.stop();
    }
    // Every delivery Procore made before, during and after the switch was accepted.
    expect(traffic.statuses.filter((status) => status !== 202)).toEqual([]);
    const audit = await worker.admin('audit_log').where({ integration_id: ref.integrationId }).pluck('action');
    expect(audit).toEqual(expect.arrayContaining(['webhooks.update', 'secret.promoted', 'secret.retired']));
  }, 120_000);

  it('T8 [procore]: a new webhook secret the vendor refuses is retired, every hook is put back on the current secret, and deliveries keep being accepted', async () => {
    const ref = await connectedWithHooks();
    const [original] = await webhookSecrets(ref.integrationId);
    const currentSecret = await plaintextOf(ref.workspaceId, original!.secret_id);
    // The Depot hook is gone at Procore (deleted there): updating it answers 404.
    const [kept, gone] = [...hooksOf(ref.workspaceId)].sort((a, b) => a.projectId - b.projectId);
    await procore.connector.deleteSubscription(
      procore.context(await procore.connect(), { workspaceId: ref.workspaceId }),
      { externalId: `${gone!.projectId}/${gone!.id}`, resource: 'hooks' },
    );
    await withDevServerWorker(worker, 'webhook-rotation-refused', async ({ client, taskQueue }) => {
      const failure = await client.workflow
        .execute('rotateSecretWorkflow', {
          taskQueue,
          workflowId: workflowIds.rotate(ref.workspaceId, ref.integrationId),
          args: [{ ...ref, vendor: 'procore', kind: 'webhook-secret', actor: ADMIN, gracePeriodMs: 1_000 }],
        })
        .then(
          () => undefined,
          (error: unknown) => error as { cause?: { type?: string } },
        );
      expect(failure?.cause?.type).toBe('RotationTestFailed');
    });
    expect((await webhookSecrets(ref.integrationId)).map((v) => v.state)).toEqual(['current', 'retired']);
    const remaining = hooksOf(ref.workspaceId);
    expect(remaining.map((hook) => hook.id)).toEqual([kept!.id]);
    expect(remaining[0]!.destinationHeaders.Authorization).toBe(`Bearer ${procoreDestinationToken(currentSecret)}`);
    // Procore delivers to every hook of the project (the other test's integration has one there too): all accepted.
    const rfi = procore.emulator.control.addItem(kept!.projectId, 'rfis', { subject: 'after', status: 'open' });
    const statuses = await procore.emulator.control.deliver(rfi.id, 'update');
    expect(statuses).toHaveLength(
      procore.emulator.control.hooks().filter((hook) => hook.projectId === kept!.projectId).length,
    );
    expect(statuses.every((status) => status === 202)).toBe(true);
    const ours = procore.emulator.control.deliveries().filter((d) => d.url === kept!.destinationUrl);
    expect(ours.at(-1)).toMatchObject({
      status: 202,
      headers: { Authorization: `Bearer ${procoreDestinationToken(currentSecret)}` },
    });
    const entry = await worker
      .admin('audit_log')
      .where({ integration_id: ref.integrationId, action: 'secret.rotation' })
      .first();
    expect(entry).toMatchObject({ outcome: 'failure', error_class: 'RotationTestFailed' });
  }, 120_000);
});

describe('T8 [jira]: webhook secret rotation by re-registration under steady traffic (API, real workflows, Jira emulator)', () => {
  const secretsKey = crypto.randomBytes(32);
  let h: Harness;
  let worker: VendorHarness;
  let jira: JiraHarness;
  let apiUrl = '';

  beforeAll(async () => {
    h = await createHarness({ secretsKey });
    apiUrl = await h.app.listen({ port: 0, host: '127.0.0.1' });
    // Jira signs deliveries with our app's client secret: the one the API verifies with.
    jira = await startJiraHarness(JIRA_APP);
    worker = createVendorHarness([{ descriptor: jiraDescriptor, connector: jira.connector }], {
      key: secretsKey,
      webhookBaseUrl: apiUrl,
    });
  });
  afterAll(async () => {
    await worker.close();
    await jira.emulator.stop();
    await h.close();
  });

  it('T8 [jira]: the webhook is re-registered with the new secret’s URL token and the old one deleted; no delivery is lost, the old token verifies during the grace window and is refused after it', async () => {
    const { control } = jira.emulator;
    const ref = { workspaceId: await seedWorkspace(worker), integrationId: crypto.randomUUID() };
    await worker.admin('integrations').insert({
      integration_id: ref.integrationId,
      workspace_id: ref.workspaceId,
      vendor: 'jira',
      status: 'connected',
      requested_scopes: [...JIRA_REQUESTED_SCOPES],
      granted_scopes: [...JIRA_REQUESTED_SCOPES],
      controls: JSON.stringify({ projects: ['SITE'] }),
      connected_by: ADMIN.id,
      connected_at: new Date(),
    });
    const credential = await jira.connect();
    await worker.secrets.put({
      ...ref,
      kind: 'oauth-tokens',
      state: 'current',
      plaintext: JSON.stringify(credential),
      expiresAt: new Date(credential.expiresAt!),
    });
    await new MockActivityEnvironment().run(worker.activities.registerWebhooks, ref);
    const ours = () => control.webhooks().filter((webhook) => webhook.url.includes(`/${ref.workspaceId}/`));
    const [original] = ours();
    expect(ours()).toHaveLength(1);
    const secretIds = async () =>
      (await worker
        .admin('secrets')
        .where({ integration_id: ref.integrationId, kind: 'webhook-secret' })
        .orderBy('version')
        .select('secret_id', 'state')) as Array<{ secret_id: string; state: string }>;
    const [first] = await secretIds();
    const oldSecret = (await worker.secrets.read(ref.workspaceId, first!.secret_id)).toString('utf8');
    const endpointUrl = original!.url.split('?')[0]!;
    /** A Jira delivery to the endpoint with the URL token of `secret`, signed as Jira signs (a second later each). */
    const deliverWith = (secret: string) => {
      control.clock.advance(1000);
      return control.sendWebhook(jiraCallbackUrl(endpointUrl, secret), {
        payload: {
          timestamp: control.clock.now(),
          webhookEvent: 'jira:issue_updated',
          issue: { id: '1', key: 'SITE-1' },
        },
      });
    };

    // Steady traffic: an issue of the selected project is created and deleted every 20 ms; Jira
    // delivers each deletion to our live webhook(s).
    const statuses: number[] = [];
    let running = true;
    const traffic = (async () => {
      for (let i = 0; running; i++) {
        control.clock.advance(1000);
        const issue = control.addIssue('SITE', `steady ${i}`);
        statuses.push(...(await control.deleteIssue(issue.key)));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      await withDevServerWorker(worker, 'webhook-rotation-jira', async ({ client, taskQueue }) => {
        const handle = await rotationInGracePeriod(client, taskQueue, ref, 'jira');
        const versions = await secretIds();
        expect(versions.map((v) => v.state)).toEqual(['previous', 'current']);
        const newSecret = (await worker.secrets.read(ref.workspaceId, versions[1]!.secret_id)).toString('utf8');
        // One live webhook, a new one, at the new secret's URL token; the vendor_subscriptions row follows it.
        expect(ours().map((webhook) => webhook.url)).toEqual([jiraCallbackUrl(endpointUrl, newSecret)]);
        expect(ours()[0]!.id).not.toBe(original!.id);
        expect(
          await worker.admin('vendor_subscriptions').where({ integration_id: ref.integrationId }).pluck('external_id'),
        ).toEqual([String(ours()[0]!.id)]);
        // A retry Jira sent to the old URL before the switch still verifies during the window.
        expect(await deliverWith(oldSecret)).toBe(202);
        expect(await handle.result()).toEqual({ status: 'rotated', newVersion: 2 });
        expect(await deliverWith(oldSecret)).toBe(401);
        expect(await deliverWith(newSecret)).toBe(202);
      });
    } finally {
      running = false;
      await traffic;
    }
    expect(statuses.length).toBeGreaterThan(0);
    expect(statuses.filter((status) => status !== 202)).toEqual([]);
    const audit = await worker.admin('audit_log').where({ integration_id: ref.integrationId }).pluck('action');
    expect(audit).toEqual(expect.arrayContaining(['webhooks.register', 'webhooks.delete', 'secret.promoted']));
  }, 120_000);
});

describe('T8 [microsoft365]: webhook secret rotation by re-registration under steady notification traffic (API, real workflows, Graph emulator)', () => {
  const secretsKey = crypto.randomBytes(32);
  let h: Harness;
  let worker: VendorHarness;
  let microsoft: MicrosoftHarness;
  let apiUrl = '';

  beforeAll(async () => {
    h = await createHarness({ secretsKey });
    apiUrl = await h.app.listen({ port: 0, host: '127.0.0.1' });
    // Graph delivers to https only: the connector subscribes through an https front to the listening API.
    microsoft = await startMicrosoftHarness({ notificationsTo: apiUrl });
    worker = createVendorHarness([{ descriptor: microsoftDescriptors.microsoft365, connector: microsoft.connector }], {
      key: secretsKey,
      webhookBaseUrl: apiUrl,
    });
  });
  afterAll(async () => {
    await worker.close();
    await microsoft.stop();
    await h.close();
  });

  it('T8 [microsoft365]: the subscriptions are re-registered with the new clientState and the old ones deleted; no notification is lost, the old clientState verifies during the grace window and is refused after it', async () => {
    const { graph } = microsoft.emulator.control;
    const ref = { workspaceId: await seedWorkspace(worker), integrationId: crypto.randomUUID() };
    const scopes = [
      ...microsoftDescriptors.microsoft365.scopes.required,
      ...microsoftDescriptors.microsoft365.scopes.optional,
    ];
    await worker.admin('integrations').insert({
      integration_id: ref.integrationId,
      workspace_id: ref.workspaceId,
      vendor: 'microsoft365',
      status: 'connected',
      requested_scopes: scopes,
      granted_scopes: scopes,
      controls: JSON.stringify({}),
      connected_by: ADMIN.id,
      connected_at: new Date(),
    });
    const { tokens } = await microsoft.connect('microsoft365');
    await worker.secrets.put({
      ...ref,
      kind: 'oauth-tokens',
      state: 'current',
      plaintext: JSON.stringify(tokens),
      expiresAt: new Date(tokens.expiresAt!),
    });
    await new MockActivityEnvironment().run(worker.activities.registerWebhooks, ref);
    const ours = () =>
      [...graph.subscriptions.values()].filter((s) => s.notificationUrl.includes(`/${ref.workspaceId}/`));
    const originals = ours();
    expect(originals.map((s) => s.resource).sort()).toEqual(['me/drive/root', 'me/events']);
    const secretIds = async () =>
      (await worker
        .admin('secrets')
        .where({ integration_id: ref.integrationId, kind: 'webhook-secret' })
        .orderBy('version')
        .select('secret_id', 'state')) as Array<{ secret_id: string; state: string }>;
    const [first] = await secretIds();
    const oldSecret = (await worker.secrets.read(ref.workspaceId, first!.secret_id)).toString('utf8');
    expect(originals.every((s) => s.clientState === oldSecret)).toBe(true);
    // The API's own (http) URL of the endpoint, behind the https front Graph delivers to.
    const endpointUrl = `${apiUrl}${new URL(originals[0]!.notificationUrl).pathname}`;
    /** A fresh change notification (Graph signs nothing but `clientState`) carrying `clientState`. */
    const notifyWith = async (clientState: string) =>
      (
        await fetch(endpointUrl, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            value: [
              {
                subscriptionId: originals[0]!.id,
                changeType: 'updated',
                resource: `me/events/${crypto.randomUUID()}`,
                clientState,
                tenantId: microsoft.emulator.tenantId,
              },
            ],
          }),
        })
      ).status;

    // Steady traffic: a calendar event changes every 20 ms and Graph notifies every live subscription
    // on me/events; each change's notifications are kept, so a change that reached no subscription shows.
    const perChange: Array<Array<{ status: number; clientState?: string }>> = [];
    let running = true;
    const traffic = (async () => {
      for (let i = 0; running; i++) {
        const before = graph.notificationsSent.length;
        await microsoft.emulator.control.upsertItem('me/events', { id: 'steady-event', subject: `steady ${i}` });
        perChange.push(graph.notificationsSent.slice(before));
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    let newSecret = '';
    try {
      await withDevServerWorker(worker, 'webhook-rotation-graph', async ({ client, taskQueue }) => {
        const handle = await rotationInGracePeriod(client, taskQueue, ref, 'microsoft365');
        const versions = await secretIds();
        expect(versions.map((v) => v.state)).toEqual(['previous', 'current']);
        newSecret = (await worker.secrets.read(ref.workspaceId, versions[1]!.secret_id)).toString('utf8');
        // New subscriptions on the same resources with the new clientState; the old ones are gone at Graph.
        const fresh = ours();
        expect(fresh.map((s) => s.resource).sort()).toEqual(['me/drive/root', 'me/events']);
        expect(fresh.every((s) => s.clientState === newSecret)).toBe(true);
        expect(fresh.some((s) => originals.some((o) => o.id === s.id))).toBe(false);
        expect(
          (
            await worker.admin('vendor_subscriptions').where({ integration_id: ref.integrationId }).pluck('external_id')
          ).sort(),
        ).toEqual(fresh.map((s) => s.id).sort());
        // A notification Graph sent on an old subscription before the switch still verifies during the window.
        expect(await notifyWith(oldSecret)).toBe(202);
        expect(await handle.result()).toEqual({ status: 'rotated', newVersion: 2 });
        expect((await secretIds()).map((v) => v.state)).toEqual(['retired', 'current']);
        expect(await notifyWith(oldSecret)).toBe(401);
        expect(await notifyWith(newSecret)).toBe(202);
        // Graph keeps notifying after the window too.
        const afterWindow = perChange.length;
        await pollUntil(
          async () => perChange.length,
          (count) => count >= afterWindow + 10,
          30_000,
        );
      });
    } finally {
      running = false;
      await traffic;
    }
    // Every change reached a live subscription and every notification was accepted, under the old
    // clientState before the switch and the new one after it.
    expect(perChange.length).toBeGreaterThan(10);
    expect(perChange.filter((notifications) => notifications.length === 0)).toEqual([]);
    expect(perChange.flat().filter((n) => n.status !== 202)).toEqual([]);
    const clientStates = new Set(perChange.flat().map((n) => n.clientState));
    expect(clientStates).toEqual(new Set([oldSecret, newSecret]));
    const audit = await worker.admin('audit_log').where({ integration_id: ref.integrationId }).pluck('action');
    // Two subscriptions at connect, two at the rotation; the two old ones deleted.
    expect(audit.filter((action) => action === 'subscription.create')).toHaveLength(4);
    expect(audit.filter((action) => action === 'subscription.delete')).toHaveLength(2);
    expect(audit).toEqual(expect.arrayContaining(['secret.promoted', 'secret.retired']));
  }, 120_000);
});
