/**
 * T21 for app-level webhooks: a GitHub App posts every installation's events to ONE URL, signed
 * with the app's secret. The receiver verifies first, then binds the delivery to the workspace(s)
 * whose integration subscribed to that installation (`route_app_webhook`), and to no other.
 */
import crypto from 'node:crypto';
import webhookExamples from '@octokit/webhooks-examples';
import { githubRoutingKey } from '../../activities/vendors/github/webhooks';
import { hmacSha256Hex } from '../../activities/vendors/shared/signatures';
import { appWebhookSecrets } from '../../activities/vendors/catalog';
import { githubDescriptors } from '../../activities/vendors/github/descriptor';
import { rotatedKinds, workflowIds } from '../../workflows/definitions';
import { receivedQuery } from './support/contractWorkflows';
import {
  createHarness,
  GITHUB_APP_WEBHOOK_SECRET,
  TEST_APPS,
  type Harness,
  seedAppWebhookTenant,
  stopLifecycles,
} from './support/harness';

const issueOpened = (installationId: number): Record<string, unknown> => {
  const example = (webhookExamples as Array<{ name: string; examples: Array<Record<string, unknown>> }>)
    .find((e) => e.name === 'issues')!
    .examples.find((p) => p.action === 'opened')!;
  return { ...example, installation: { id: installationId, node_id: 'MDIz' } };
};

describe('T21 [github]: app-level GitHub webhooks are verified with the app secret and bound to the subscribed workspace only', () => {
  let h: Harness;
  const tenants = [
    { workspaceId: crypto.randomUUID(), installationId: 4242, integrationId: '', endpointId: '' },
    { workspaceId: crypto.randomUUID(), installationId: 7777, integrationId: '', endpointId: '' },
  ];

  beforeAll(async () => {
    h = await createHarness();
    for (const tenant of tenants) {
      tenant.endpointId = crypto.randomUUID();
      tenant.integrationId = await seedAppWebhookTenant(h, {
        workspaceId: tenant.workspaceId,
        vendor: 'github',
        routingKey: githubRoutingKey(tenant.installationId),
        endpointId: tenant.endpointId,
      });
    }
  });
  afterAll(async () => {
    await stopLifecycles(
      h,
      tenants.map((t) => workflowIds.lifecycle(t.workspaceId, t.integrationId)),
    );
    await h.close();
  });

  const post = (payload: Record<string, unknown>, options: { secret?: string; deliveryId?: string } = {}) => {
    const body = JSON.stringify(payload);
    return h.app.inject({
      method: 'POST',
      url: '/v1/webhooks/github',
      headers: {
        'content-type': 'application/json',
        'x-github-event': 'issues',
        'x-github-delivery': options.deliveryId ?? crypto.randomUUID(),
        'x-hub-signature-256': `sha256=${hmacSha256Hex(options.secret ?? GITHUB_APP_WEBHOOK_SECRET, body)}`,
      },
      payload: body,
    });
  };
  const deliveries = (workspaceId: string) => h.su('webhook_deliveries').where({ workspace_id: workspaceId });
  const signals = (t: (typeof tenants)[number]) =>
    h.services.temporal.client.workflow
      .getHandle(workflowIds.lifecycle(t.workspaceId, t.integrationId))
      .query(receivedQuery);

  it('T21 T10: a signed delivery reaches only the workspace subscribed to its installation; a repeat changes nothing', async () => {
    await h.withWorker(async () => {
      const deliveryId = crypto.randomUUID();
      const first = await post(issueOpened(4242), { deliveryId });
      expect([first.statusCode, first.json()]).toEqual([202, { received: 1, duplicates: 0 }]);
      const again = await post(issueOpened(4242), { deliveryId });
      expect(again.json()).toEqual({ received: 0, duplicates: 1 });
      expect((await deliveries(tenants[0]!.workspaceId)).map((d) => [d.delivery_id, d.endpoint_id])).toEqual([
        // Keyed on what GitHub signed (the body), not on the unsigned delivery id.
        [
          `sha256:${crypto
            .createHash('sha256')
            .update(JSON.stringify(issueOpened(4242)))
            .digest('hex')}`,
          tenants[0]!.endpointId,
        ],
      ]);
      expect(await deliveries(tenants[1]!.workspaceId)).toHaveLength(0);
      expect((await signals(tenants[0]!)).filter((s) => s.name === 'syncRequested')).toHaveLength(1);
      expect(await signals(tenants[1]!)).toEqual([]);
      // T10: the inbound call is in the audit log of the workspace it served, and only there.
      const audited = await h
        .su('audit_log')
        .where({ action: 'api.webhook.receive' })
        .whereIn(
          'workspace_id',
          tenants.map((t) => t.workspaceId),
        );
      expect(audited.map((a) => [a.workspace_id, a.integration_id, a.actor_type, a.outcome])).toEqual([
        [tenants[0]!.workspaceId, tenants[0]!.integrationId, 'vendor', 'success'],
        [tenants[0]!.workspaceId, tenants[0]!.integrationId, 'vendor', 'success'],
      ]);
    });
  });

  it('T21: a forged delivery, or one signed with a per-workspace secret instead of the app secret, is 401 and changes nothing', async () => {
    const before = (await deliveries(tenants[1]!.workspaceId)).length;
    for (const secret of ['not-the-app-secret', crypto.randomBytes(32).toString('base64url')]) {
      const response = await post(issueOpened(7777), { secret });
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    expect(await deliveries(tenants[1]!.workspaceId)).toHaveLength(before);
  });

  it('T8 [github]: during an operator rotation of the app secret both the new and the previous secret verify; once the previous one is unset it is refused', async () => {
    const configured = h.services.appWebhookSecrets;
    const rotated = 'github-app-webhook-secret-after-rotation';
    try {
      // The operator set the new secret at GitHub and in GITHUB_WEBHOOK_SECRET, the old one in GITHUB_WEBHOOK_SECRET_PREVIOUS.
      h.services.appWebhookSecrets = appWebhookSecrets({
        ...TEST_APPS,
        github: { ...TEST_APPS.github!, webhookSecret: rotated, previousWebhookSecret: GITHUB_APP_WEBHOOK_SECRET },
      });
      await h.withWorker(async () => {
        // Steady traffic across the switch: GitHub's retries still carry the old signature, new deliveries the new one.
        for (const secret of [GITHUB_APP_WEBHOOK_SECRET, rotated, GITHUB_APP_WEBHOOK_SECRET, rotated])
          expect((await post({ ...issueOpened(4242), rotation: crypto.randomUUID() }, { secret })).statusCode).toBe(
            202,
          );
      });
      // The window is over: the operator unset the previous secret.
      h.services.appWebhookSecrets = appWebhookSecrets({
        ...TEST_APPS,
        github: { ...TEST_APPS.github!, webhookSecret: rotated },
      });
      expect((await post(issueOpened(4242), { secret: GITHUB_APP_WEBHOOK_SECRET })).statusCode).toBe(401);
      expect((await post({ ...issueOpened(4242), rotation: 'after' }, { secret: rotated })).statusCode).toBe(202);
    } finally {
      h.services.appWebhookSecrets = configured;
    }
  });

  it('T8 [github]: the app webhook secret is our app’s, not an integration’s: no lifecycle schedules its rotation', () => {
    expect(rotatedKinds(githubDescriptors[0]!)).toEqual(['oauth-tokens']);
    expect(appWebhookSecrets(TEST_APPS).github).toEqual([GITHUB_APP_WEBHOOK_SECRET]);
  });

  it('T21: an authentic delivery for an installation no workspace connected is acknowledged and goes nowhere', async () => {
    const response = await post(issueOpened(999_999));
    expect([response.statusCode, response.json()]).toEqual([202, { received: 0, duplicates: 0 }]);
  });

  it("T20: the api role still cannot read another workspace's subscriptions directly; the routing function returns ids only", async () => {
    expect(await h.db('vendor_subscriptions').select('*')).toEqual([]);
    const { rows } = await h.db.raw('select * from route_app_webhook(?, ?)', ['github', githubRoutingKey(4242)]);
    expect(rows).toEqual([
      {
        workspace_id: tenants[0]!.workspaceId,
        integration_id: tenants[0]!.integrationId,
        endpoint_id: tenants[0]!.endpointId,
      },
    ]);
    await expect(h.db.raw('select * from route_app_webhook(?, ?)', ['GitHub; drop', 'x'])).rejects.toThrow(
      /invalid vendor/,
    );
  });
});
