/**
 * T8 for Okta's event-hook secret, through the listening API, the real rotation workflow on the dev
 * server and the Okta emulator's event hooks. Okta lets only the org's admin set a hook's
 * `Authorization` value, so the admin sets it in Okta and submits the same value to
 * `PUT …/integrations/{id}/webhook-secret` (admin only, audited, problem+json errors; the value is
 * never answered back). It verifies at once, the previous value keeps verifying during the grace
 * window and is refused after it.
 */
import crypto from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { OKTA_MATRIX_SCOPE, oktaDescriptor } from '../../activities/vendors/okta';
import type { EventHook } from '../../emulators/okta/eventHooks';
import { devServer, testWorker } from '../support/temporal';
import { startOktaHarness, type OktaHarness } from '../vendors/okta/harness';
import { createVendorHarness, type VendorHarness } from '../workflows/support/harness';
import { ADMIN, pollUntil, seedWorkspace } from '../workflows/support/workflowHelpers';
import { bearer, createHarness, type Harness } from './support/harness';

describe('T8 [okta]: the event-hook Authorization value the admin set in Okta (API, real rotation workflow, Okta emulator)', () => {
  const secretsKey = crypto.randomBytes(32);
  let h: Harness;
  let worker: VendorHarness;
  let okta: OktaHarness;
  let apiUrl = '';

  beforeAll(async () => {
    h = await createHarness({ secretsKey });
    h.services.webhookSecretGraceMs = 3_000;
    apiUrl = await h.app.listen({ port: 0, host: '127.0.0.1' });
    okta = await startOktaHarness();
    worker = createVendorHarness([{ descriptor: oktaDescriptor, connector: okta.connector }], {
      key: secretsKey,
      webhookBaseUrl: apiUrl,
    });
  });
  afterAll(async () => {
    await worker.close();
    await okta.stop();
    await h.close();
  });

  it('T8 [okta]: the admin submits the value set in Okta: it verifies at once, the previous one during the grace window only; admin only, audited, never answered back', async () => {
    const { control } = okta.emulator;
    const ref = { workspaceId: await seedWorkspace(worker), integrationId: crypto.randomUUID() };
    await worker.admin('integrations').insert({
      integration_id: ref.integrationId,
      workspace_id: ref.workspaceId,
      vendor: 'okta',
      status: 'connected',
      requested_scopes: [OKTA_MATRIX_SCOPE],
      granted_scopes: [OKTA_MATRIX_SCOPE],
      controls: JSON.stringify(okta.controls),
      connected_by: ADMIN.id,
      connected_at: new Date(),
    });
    const { tokens } = await okta.signIn();
    await worker.secrets.put({ ...ref, kind: 'oauth-tokens', state: 'current', plaintext: JSON.stringify(tokens) });
    await new MockActivityEnvironment().run(worker.activities.registerWebhooks, ref);
    const [endpoint] = await worker.admin('webhook_endpoints').where({ integration_id: ref.integrationId });
    const hookAt = (authorization: string): EventHook => ({
      url: `${apiUrl}/v1/webhooks/okta/${ref.workspaceId}/${endpoint.endpoint_id as string}`,
      authorization,
    });
    const deliver = (authorization: string) =>
      control.deliverEventHook(hookAt(authorization), control.eventHookBody(['user.lifecycle.deactivate']));

    const path = `/v1/workspaces/${ref.workspaceId}/integrations/${ref.integrationId}/webhook-secret`;
    const admin = bearer(await h.token({ workspaceId: ref.workspaceId, role: 'admin', sub: 'admin-1' }));
    const member = bearer(await h.token({ workspaceId: ref.workspaceId, role: 'member', sub: 'member-1' }));
    const service = bearer(await h.token({ workspaceId: ref.workspaceId, role: 'service', sub: 'svc-1' }));
    const put = (headers: Record<string, string>, payload: object) =>
      h.app.inject({ method: 'PUT', url: path, headers, payload });
    const first = crypto.randomBytes(32).toString('base64url');
    const second = `Bearer ${crypto.randomBytes(32).toString('base64url')}`;

    // The admin created the hook in Okta with a value of their own: refused until they submit it.
    expect((await control.verifyEventHook(hookAt(first))).verified).toBe(false);
    // Admin only; a bad value is a problem naming the field, and nothing is stored.
    for (const caller of [member, service]) expect((await put(caller, { value: first })).statusCode).toBe(403);
    for (const value of ['short', ` ${first}`, `${first}\n`, 'x'.repeat(513)]) {
      const bad = await put(admin, { value });
      expect(bad.statusCode).toBe(400);
      expect(bad.headers['content-type']).toMatch(/^application\/problem\+json/);
      // Every error names the field (a short value breaks both its length and its pattern).
      const pointers = (bad.json().errors as Array<{ pointer: string }>).map((error) => error.pointer);
      expect(pointers.length).toBeGreaterThan(0);
      expect(new Set(pointers)).toEqual(new Set(['/body/value']));
      expect(bad.body).not.toContain(value.trim());
    }
    expect(await worker.admin('secrets').where({ integration_id: ref.integrationId, state: 'pending' })).toEqual([]);

    const server = await devServer();
    const running = await testWorker({
      connection: server.connection,
      taskQueue: h.taskQueue,
      activities: worker.activities,
    });
    const rotated = async (value: string) => {
      const answer = await put(admin, { value });
      expect(answer.statusCode).toBe(202);
      expect(answer.body).not.toContain(value);
      return server.client.workflow.getHandle(answer.json().workflowId as string);
    };
    try {
      await running.runUntil(async () => {
        const firstRun = await rotated(first);
        // Verifies at once (pending), Okta's one-time verification GET included.
        expect(await control.verifyEventHook(hookAt(first))).toMatchObject({ status: 200, verified: true });
        expect(await deliver(first)).toBe(202);
        // Version 1 was the random value set at connect, which no admin could know.
        expect(await firstRun.result()).toEqual({ status: 'rotated', newVersion: 2 });

        // The next quarter: the admin sets a new value in Okta and submits it.
        const secondRun = await rotated(second);
        // A second submission while that rotation runs is a conflict, not a second rotation, and is not kept.
        const conflict = await put(admin, { value: `${second}x` });
        expect(conflict.statusCode).toBe(409);
        expect(conflict.headers['content-type']).toMatch(/^application\/problem\+json/);
        await pollUntil(
          async () =>
            await worker
              .admin('secrets')
              .where({ integration_id: ref.integrationId, kind: 'webhook-secret' })
              .orderBy('version')
              .pluck('state'),
          (states) => states.at(-2) === 'previous' && states.at(-1) === 'current',
          30_000,
        );
        // Grace window: Okta's retries with the old value still verify, the new one too.
        expect(await deliver(first)).toBe(202);
        expect(await deliver(second)).toBe(202);
        expect(await secondRun.result()).toEqual({ status: 'rotated', newVersion: 3 });
        const states = await worker
          .admin('secrets')
          .where({ integration_id: ref.integrationId, kind: 'webhook-secret' })
          .orderBy('version')
          .pluck('state');
        expect(states).toEqual(['retired', 'retired', 'current']);
        expect(await deliver(first)).toBe(401);
        expect(await deliver(second)).toBe(202);
      });
    } finally {
      await server.close();
    }
    const audit = await worker.admin('audit_log').where({ integration_id: ref.integrationId }).pluck('action');
    // Each submission by the admin, accepted or refused, is in the audit log (the value never is).
    expect(audit.filter((action) => action === 'api.integration.set-webhook-secret').length).toBeGreaterThanOrEqual(3);
    expect(audit).toEqual(expect.arrayContaining(['secret.promoted', 'secret.retired']));
    expect(JSON.stringify(await worker.admin('audit_log').where({ workspace_id: ref.workspaceId }))).not.toContain(
      first,
    );
  }, 180_000);
});
