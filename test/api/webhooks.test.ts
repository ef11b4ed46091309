/**
 * T21: inbound webhooks are authenticated by signature verification and bound to the originating
 * workspace; forged or foreign deliveries are 401 and change nothing; repeated ones change nothing.
 * GitHub deliveries are real payloads from `@octokit/webhooks-examples`, signed as GitHub signs
 * them (`sha256=` + hex HMAC-SHA256 of the raw body).
 */
import crypto from 'node:crypto';
import webhookExamples from '@octokit/webhooks-examples';
import { hmacSha256Hex } from '../../activities/vendors/shared/signatures';
import { WEBHOOK_SYNC_BUDGET } from '../../api/webhooks/receiver';
import { unsignalledWebhookIntegrations } from '../../db/webhooks';
import { receivedQuery } from './support/contractWorkflows';
import { createHarness, seedWebhookEndpoint, type Harness, type SeededEndpoint } from './support/harness';

const example = (event: string, action: string): Record<string, unknown> => {
  const found = (webhookExamples as Array<{ name: string; examples: Array<Record<string, unknown>> }>)
    .find((e) => e.name === event)!
    .examples.find((p) => p.action === action);
  if (!found) throw new Error(`no ${event}.${action} example`);
  return found;
};

describe('webhook receivers (real Postgres + Temporal dev server)', () => {
  let h: Harness;
  const ws = crypto.randomUUID();
  const otherWs = crypto.randomUUID();

  const endpoints: Record<'github' | 'sharepoint', SeededEndpoint> = {} as never;
  const logLines: string[] = [];
  const createEndpoint = (vendor: 'github' | 'sharepoint') => seedWebhookEndpoint(h, ws, vendor);

  beforeAll(async () => {
    h = await createHarness({ logLines });
    endpoints.github = await createEndpoint('github');
    endpoints.sharepoint = await createEndpoint('sharepoint');
  });
  afterAll(async () => {
    for (const e of Object.values(endpoints))
      await h.services.temporal.client.workflow
        .getHandle(e.lifecycleId)
        .terminate('test cleanup')
        .catch(() => undefined);
    await h.close();
  });

  const received = (lifecycleId: string) =>
    h.services.temporal.client.workflow.getHandle(lifecycleId).query(receivedQuery);
  const deliveriesOf = (endpointId: string) =>
    h.su('webhook_deliveries').where({ endpoint_id: endpointId }).orderBy('received_at');
  /** The dedup key of a GitHub delivery: the SHA-256 of the body GitHub signed. */
  const bodyKey = (payload: Record<string, unknown>) =>
    `sha256:${crypto.createHash('sha256').update(JSON.stringify(payload)).digest('hex')}`;

  const github = async (
    payload: Record<string, unknown>,
    options: {
      event: string;
      deliveryId?: string;
      secret?: string;
      workspaceId?: string;
      endpointId?: string;
      tamper?: boolean;
    },
  ) => {
    const body = JSON.stringify(payload);
    const signature = `sha256=${hmacSha256Hex(options.secret ?? endpoints.github.secret, body)}`;
    return h.app.inject({
      method: 'POST',
      url: `/v1/webhooks/github/${options.workspaceId ?? ws}/${options.endpointId ?? endpoints.github.endpointId}`,
      headers: {
        'content-type': 'application/json',
        'x-github-event': options.event,
        'x-github-delivery': options.deliveryId ?? crypto.randomUUID(),
        'x-hub-signature-256': signature,
      },
      payload: options.tamper ? body.replace('"opened"', '"closed"') : body,
    });
  };

  it('T21 [github]: a correctly signed GitHub delivery is recorded once and wakes the lifecycle (incremental sync); a repeat changes nothing', async () => {
    await h.withWorker(async () => {
      const deliveryId = crypto.randomUUID();
      const first = await github(example('issues', 'opened'), { event: 'issues', deliveryId });
      expect(first.statusCode).toBe(202);
      expect(first.json()).toEqual({ received: 1, duplicates: 0 });
      const again = await github(example('issues', 'opened'), { event: 'issues', deliveryId });
      expect(again.statusCode).toBe(202);
      expect(again.json()).toEqual({ received: 0, duplicates: 1 });

      const rows = await deliveriesOf(endpoints.github.endpointId);
      expect(rows.map((r) => [r.delivery_id, r.event_type, r.workspace_id, r.integration_id])).toEqual([
        [bodyKey(example('issues', 'opened')), 'issues.opened', ws, endpoints.github.integrationId],
      ]);
      expect(rows[0].expires_at.getTime()).toBeGreaterThan(Date.now());
      const signals = (await received(endpoints.github.lifecycleId)).filter((e) => e.name === 'syncRequested');
      expect(signals.map((s) => s.arg)).toEqual([{ reason: 'webhook' }]);
      // Signalled, so marked: the catch-up schedule leaves it alone.
      expect((await deliveriesOf(endpoints.github.endpointId))[0].processed_at).toBeInstanceOf(Date);
    });
  });

  it('T21 [github]: a captured body and signature re-posted under a new delivery id or event name is a repeat: acknowledged, nothing recorded or signalled', async () => {
    await h.withWorker(async () => {
      const captured = { ...example('issues', 'edited'), captured: crypto.randomUUID() };
      expect((await github(captured, { event: 'issues' })).json()).toEqual({ received: 1, duplicates: 0 });
      const signalsBefore = (await received(endpoints.github.lifecycleId)).length;
      const rowsBefore = (await deliveriesOf(endpoints.github.endpointId)).length;
      // Neither header is signed: the same body and signature under fresh ones is still the same delivery.
      for (const event of ['issues', 'installation']) {
        const replay = await github(captured, { event, deliveryId: crypto.randomUUID() });
        expect([replay.statusCode, replay.json()]).toEqual([202, { received: 0, duplicates: 1 }]);
      }
      expect((await deliveriesOf(endpoints.github.endpointId)).length).toBe(rowsBefore);
      expect((await received(endpoints.github.lifecycleId)).length).toBe(signalsBefore);
    });
  });

  it('T21 [github]: a burst of 50 deliveries wakes the lifecycle within the per-integration budget; the rest are recorded, logged and left to the catch-up schedule', async () => {
    const burst = await createEndpoint('github');
    await h.withWorker(async () => {
      const started = Date.now();
      for (let n = 0; n < 50; n += 1) {
        const response = await github(
          { ...example('issues', 'edited'), burst: n },
          { event: 'issues', secret: burst.secret, endpointId: burst.endpointId },
        );
        expect(response.statusCode).toBe(202);
      }
      const refilled = Math.floor(((Date.now() - started) / 1000) * WEBHOOK_SYNC_BUDGET.refillPerSecond);
      const signals = (await received(burst.lifecycleId)).filter((e) => e.name === 'syncRequested');
      expect(signals.length).toBeGreaterThanOrEqual(WEBHOOK_SYNC_BUDGET.capacity);
      expect(signals.length).toBeLessThanOrEqual(WEBHOOK_SYNC_BUDGET.capacity + refilled);
      const rows = await deliveriesOf(burst.endpointId);
      expect(rows).toHaveLength(50);
      expect(rows.filter((r) => r.processed_at === null)).toHaveLength(50 - signals.length);
      // The catch-up schedule finds the integration once, however many deliveries wait: one more sync.
      const waiting = await unsignalledWebhookIntegrations(h.su, 0, 10_000);
      expect(waiting.filter((w) => w.integrationId === burst.integrationId)).toHaveLength(1);
      const capped = logLines.filter((line) => line.includes('over the per-integration budget'));
      expect(capped).toHaveLength(50 - signals.length);
      expect(JSON.parse(capped[0]!)).toMatchObject({ level: 40, integrationId: burst.integrationId, deferred: 1 });
    });
  });

  it('T21 [github]: deletions and uninstalls reach the workflow as a reconciling sync and a lifecycle event', async () => {
    await h.withWorker(async () => {
      expect((await github(example('issues', 'deleted'), { event: 'issues' })).statusCode).toBe(202);
      expect((await github(example('installation', 'deleted'), { event: 'installation' })).statusCode).toBe(202);
      const log = await received(endpoints.github.lifecycleId);
      expect(log.slice(-2)).toEqual([
        { name: 'syncRequested', arg: { reason: 'webhook', resource: 'issues', full: true } },
        { name: 'vendorLifecycle', arg: { event: 'installation.deleted' } },
      ]);
    });
  });

  it('T21 [github]: forged, tampered, foreign-workspace and unknown-endpoint deliveries are 401 problem+json and change nothing', async () => {
    await h.withWorker(async () => {
      const signalsBefore = (await received(endpoints.github.lifecycleId)).length;
      const rowsBefore = (await deliveriesOf(endpoints.github.endpointId)).length;
      const auditBefore = await h
        .su('audit_log')
        .where({ workspace_id: ws, action: 'api.webhook.receive', outcome: 'denied' });

      const forged = await github(example('issues', 'opened'), { event: 'issues', secret: 'not-the-secret' });
      const tampered = await github(example('issues', 'opened'), { event: 'issues', tamper: true });
      // The endpoint exists, but in another workspace than the path claims: RLS finds nothing.
      const foreign = await github(example('issues', 'opened'), { event: 'issues', workspaceId: otherWs });
      const unknown = await github(example('issues', 'opened'), { event: 'issues', endpointId: crypto.randomUUID() });
      const unsigned = await h.app.inject({
        method: 'POST',
        url: `/v1/webhooks/github/${ws}/${endpoints.github.endpointId}`,
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'issues',
          'x-github-delivery': crypto.randomUUID(),
        },
        payload: '{}',
      });
      for (const response of [forged, tampered, foreign, unknown, unsigned]) {
        expect(response.statusCode).toBe(401);
        expect(response.headers['content-type']).toContain('application/problem+json');
        expect(response.json().detail).toBe('The delivery could not be authenticated');
      }
      expect((await deliveriesOf(endpoints.github.endpointId)).length).toBe(rowsBefore);
      expect((await received(endpoints.github.lifecycleId)).length).toBe(signalsBefore);
      // Attempts against the real endpoint are audited in its workspace; the stranger workspace gets nothing.
      const auditAfter = await h
        .su('audit_log')
        .where({ workspace_id: ws, action: 'api.webhook.receive', outcome: 'denied' });
      expect(auditAfter.length - auditBefore.length).toBe(3);
      expect(
        auditAfter.every(
          (r) => r.actor_type === 'vendor' && r.actor_id === 'github' && r.error_class === 'SignatureRejected',
        ),
      ).toBe(true);
      expect(await h.su('audit_log').where({ workspace_id: otherWs })).toHaveLength(0);
    });
  });

  it('T21 [sharepoint]: Graph validation handshake is answered with the decoded token as text/plain; clientState is checked on every notification', async () => {
    const sp = endpoints.sharepoint;
    const url = `/v1/webhooks/sharepoint/${ws}/${sp.endpointId}`;
    await h.withWorker(async () => {
      const token = 'Validation: Token with spaces & symbols';
      const validation = await h.app.inject({
        method: 'POST',
        url: `${url}?validationToken=${encodeURIComponent(token)}`,
        headers: { 'content-type': 'text/plain' },
      });
      expect(validation.statusCode).toBe(200);
      expect(validation.headers['content-type']).toContain('text/plain');
      expect(validation.body).toBe(token);

      const notification = (clientState: string, extra: Record<string, unknown> = {}) => ({
        value: [
          {
            subscriptionId: 'sub-1',
            clientState,
            changeType: 'updated',
            resource: 'sites/s1/drive/root',
            tenantId: crypto.randomUUID(),
            ...extra,
          },
        ],
      });
      const good = await h.app.inject({ method: 'POST', url, payload: notification(sp.secret) });
      expect(good.statusCode).toBe(202);
      const lifecycleEvent = await h.app.inject({
        method: 'POST',
        url,
        payload: notification(sp.secret, { lifecycleEvent: 'reauthorizationRequired' }),
      });
      expect(lifecycleEvent.statusCode).toBe(202);
      const forged = await h.app.inject({ method: 'POST', url, payload: notification('guessed-client-state') });
      expect(forged.statusCode).toBe(401);
      const log = await received(sp.lifecycleId);
      expect(log).toEqual([
        { name: 'syncRequested', arg: { reason: 'webhook' } },
        { name: 'vendorLifecycle', arg: { event: 'reauthorizationRequired', subscriptionId: 'sub-1' } },
      ]);
      // A validation request for an endpoint that does not exist is not answered (no open echo).
      const stranger = await h.app.inject({
        method: 'POST',
        url: `/v1/webhooks/sharepoint/${ws}/${crypto.randomUUID()}?validationToken=x`,
      });
      expect(stranger.statusCode).toBe(401);
    });
  });

  it('T21 [github]: a verified delivery is kept (processed_at unset) and acknowledged even when the lifecycle is not running', async () => {
    const idle = await createEndpoint('github');
    await h.services.temporal.client.workflow.getHandle(idle.lifecycleId).terminate('simulate a stopped lifecycle');
    const deliveryId = crypto.randomUUID();
    const response = await github(example('issues', 'opened'), {
      event: 'issues',
      deliveryId,
      secret: idle.secret,
      endpointId: idle.endpointId,
    });
    expect(response.statusCode).toBe(202);
    const rows = await deliveriesOf(idle.endpointId);
    expect(rows.map((r) => [r.delivery_id, r.processed_at])).toEqual([[bodyKey(example('issues', 'opened')), null]]);
  });

  it('unknown vendors, vendors without webhooks, malformed ids and oversized bodies are 4xx, never 5xx', async () => {
    const path = `${ws}/${endpoints.github.endpointId}`;
    expect((await h.app.inject({ method: 'POST', url: `/v1/webhooks/nope/${path}`, payload: '{}' })).statusCode).toBe(
      404,
    );
    expect((await h.app.inject({ method: 'POST', url: `/v1/webhooks/sap/${path}`, payload: '{}' })).statusCode).toBe(
      404,
    );
    expect(
      (
        await h.app.inject({
          method: 'POST',
          url: `/v1/webhooks/github/not-a-uuid/${endpoints.github.endpointId}`,
          payload: '{}',
        })
      ).statusCode,
    ).toBe(400);
    const huge = await h.app.inject({
      method: 'POST',
      url: `/v1/webhooks/github/${path}`,
      headers: { 'content-type': 'application/json' },
      payload: Buffer.alloc(2 * 1024 * 1024, 0x20),
    });
    expect(huge.statusCode).toBe(413);
    const get = await h.app.inject({ method: 'GET', url: `/v1/webhooks/github/${path}` });
    expect(get.statusCode).toBe(405); // GET only answers verification challenges
  });
});
