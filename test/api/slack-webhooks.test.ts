/**
 * T21 for Slack's Events API as production wires it: one Request URL for the whole Slack app
 * (`POST /v1/webhooks/slack`, the app-level receiver), every request signed with the app's signing
 * secret (`v0:{timestamp}:{body}`, HMAC-SHA256), five minutes of tolerance. The `url_verification`
 * handshake is answered only when signed; a delivery is bound to the workspace whose integration
 * installed the app in that Slack workspace (`team_id`), recorded once by `event_id`; a retry
 * (`X-Slack-Retry-Num`) changes nothing; forged, stale, replayed or tampered requests are 401 and
 * change nothing; the grant-loss events wake the lifecycle.
 */
import crypto from 'node:crypto';
import { hmacSha256Hex } from '../../activities/vendors/shared/signatures';
import { slackRoutingKey } from '../../activities/vendors/slack';
import { appWebhookSecrets } from '../../activities/vendors/catalog';
import { slackDescriptors } from '../../activities/vendors/slack/descriptor';
import { rotatedKinds, workflowIds } from '../../workflows/definitions';
import { receivedQuery } from './support/contractWorkflows';
import {
  createHarness,
  SLACK_APP,
  TEST_APPS,
  type Harness,
  seedAppWebhookTenant,
  stopLifecycles,
} from './support/harness';

describe('T21 [slack]: Slack Events API on the app-level receiver (real Postgres + Temporal dev server)', () => {
  let h: Harness;
  const tenants = [
    { workspaceId: crypto.randomUUID(), teamId: 'T0SITEA01', integrationId: '' },
    { workspaceId: crypto.randomUUID(), teamId: 'T0SITEB02', integrationId: '' },
  ];
  const [a, b] = tenants as [(typeof tenants)[number], (typeof tenants)[number]];

  beforeAll(async () => {
    h = await createHarness();
    for (const tenant of tenants) {
      tenant.integrationId = await seedAppWebhookTenant(h, {
        workspaceId: tenant.workspaceId,
        vendor: 'slack',
        routingKey: slackRoutingKey(tenant.teamId),
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

  const nowS = () => Math.floor(Date.now() / 1000);
  /** Signs like Slack: `v0=` + HMAC-SHA256(signing secret, `v0:{ts}:{body}`). */
  const headersFor = (body: string, options: { secret?: string; timestamp?: number; retry?: number } = {}) => {
    const timestamp = String(options.timestamp ?? nowS());
    return {
      'content-type': 'application/json',
      'x-slack-request-timestamp': timestamp,
      'x-slack-signature': `v0=${hmacSha256Hex(options.secret ?? SLACK_APP.signingSecret, `v0:${timestamp}:${body}`)}`,
      ...(options.retry ? { 'x-slack-retry-num': String(options.retry), 'x-slack-retry-reason': 'http_timeout' } : {}),
    };
  };
  const post = (body: string, headers: Record<string, string>) =>
    h.app.inject({ method: 'POST', url: '/v1/webhooks/slack', headers, payload: body });
  const send = (payload: Record<string, unknown>, options: Parameters<typeof headersFor>[1] = {}) => {
    const body = JSON.stringify(payload);
    return post(body, headersFor(body, options));
  };
  const event = (teamId: string, eventId: string, inner: Record<string, unknown>) => ({
    token: 'deprecated-verification-token',
    team_id: teamId,
    api_app_id: 'A0TRACKPRJ',
    event: { ...inner, event_ts: '1700000000.000100' },
    type: 'event_callback',
    event_id: eventId,
    event_time: nowS(),
  });
  const deliveries = (t: (typeof tenants)[number]) =>
    h.su('webhook_deliveries').where({ integration_id: t.integrationId }).orderBy('delivery_id');
  const signals = (t: (typeof tenants)[number]) =>
    h.services.temporal.client.workflow
      .getHandle(workflowIds.lifecycle(t.workspaceId, t.integrationId))
      .query(receivedQuery);

  it('T21 [slack]: url_verification is answered with its challenge only when signed with the app secret and fresh', async () => {
    const challenge = crypto.randomBytes(24).toString('base64url');
    const handshake = { token: 'deprecated-verification-token', challenge, type: 'url_verification' };
    const answered = await send(handshake);
    expect([answered.statusCode, answered.headers['content-type'], answered.body]).toEqual([
      200,
      'text/plain; charset=utf-8',
      challenge,
    ]);
    for (const refused of [
      await send(handshake, { secret: 'not-the-signing-secret' }),
      await send(handshake, { timestamp: nowS() - 6 * 60 }),
      await post(JSON.stringify(handshake), { 'content-type': 'application/json' }),
    ]) {
      expect(refused.statusCode).toBe(401);
      expect(refused.headers['content-type']).toContain('application/problem+json');
      expect(refused.body).not.toContain(challenge);
    }
  });

  it('T21 [slack]: a signed event is recorded once, for the workspace of its team only, and wakes its lifecycle; a Slack retry changes nothing; forged, stale, replayed-late or tampered deliveries are 401 and change nothing', async () => {
    await h.withWorker(async () => {
      const delivered = event(a.teamId, 'Ev0A0001', { type: 'channel_rename', channel: { id: 'C0001' } });
      const first = await send(delivered);
      expect([first.statusCode, first.json()]).toEqual([202, { received: 1, duplicates: 0 }]);
      // Slack retries with the same event_id, a new timestamp and signature.
      const retried = await send(delivered, { retry: 1, timestamp: nowS() + 1 });
      expect([retried.statusCode, retried.json()]).toEqual([202, { received: 0, duplicates: 1 }]);
      expect((await deliveries(a)).map((d) => [d.delivery_id, d.event_type])).toEqual([['Ev0A0001', 'channel_rename']]);
      expect((await signals(a)).filter((s) => s.name === 'syncRequested')).toHaveLength(1);

      const forged = await send(event(a.teamId, 'Ev0A0002', { type: 'app_uninstalled' }), { secret: 'guessed' });
      // Captured and replayed after Slack's five minutes: its signature still holds, its timestamp does not.
      const capturedAt = nowS() - 5 * 60 - 5;
      const stale = await send(event(a.teamId, 'Ev0A0003', { type: 'app_uninstalled' }), { timestamp: capturedAt });
      // A captured delivery re-aimed at another workspace's team under the original signature.
      const original = JSON.stringify(event(a.teamId, 'Ev0A0004', { type: 'channel_rename' }));
      const tampered = await post(original.replace(a.teamId, b.teamId), headersFor(original));
      const unsigned = await post(original, { 'content-type': 'application/json' });
      for (const refused of [forged, stale, tampered, unsigned]) expect(refused.statusCode).toBe(401);
      expect(await deliveries(a)).toHaveLength(1);
      expect(await deliveries(b)).toEqual([]);
      expect((await signals(a)).filter((s) => s.name === 'vendorLifecycle')).toEqual([]);
      expect(await signals(b)).toEqual([]);

      // Authentic, but for a Slack workspace no integration of ours installed in: acknowledged, nothing happens.
      const stranger = await send(event('T0NOBODY9', 'Ev0Z0001', { type: 'app_uninstalled' }));
      expect([stranger.statusCode, stranger.json()]).toEqual([202, { received: 0, duplicates: 0 }]);
    });
  });

  it('T21 [slack]: app_uninstalled and tokens_revoked naming our bot mark the grant lost; a revocation of user tokens only is not ours', async () => {
    await h.withWorker(async () => {
      const lost = async (t: (typeof tenants)[number]) =>
        (await signals(t)).filter((s) => s.name === 'vendorLifecycle').map((s) => s.arg);
      expect(
        (await send(event(b.teamId, 'Ev0B0001', { type: 'tokens_revoked', tokens: { oauth: ['U0PERSON1'] } })))
          .statusCode,
      ).toBe(202);
      expect(await lost(b)).toEqual([]);
      expect(
        (await send(event(b.teamId, 'Ev0B0002', { type: 'tokens_revoked', tokens: { bot: ['U0BOT0001'] } })))
          .statusCode,
      ).toBe(202);
      expect((await send(event(a.teamId, 'Ev0A0100', { type: 'app_uninstalled' }))).statusCode).toBe(202);
      expect(await lost(b)).toEqual([{ event: 'reauthorizationRequired' }]);
      expect(await lost(a)).toEqual([{ event: 'reauthorizationRequired' }]);
      expect((await deliveries(b)).map((d) => d.event_type)).toEqual(['tokens_revoked', 'tokens_revoked']);
    });
  });
  it('T8 [slack]: the signing secret is our app’s (an operator rotation, not an integration’s): during the window the new and the previous secret both verify, after it the previous one is refused', async () => {
    expect(rotatedKinds(slackDescriptors[0]!)).toEqual(['oauth-tokens']);
    const configured = h.services.appWebhookSecrets;
    const rotated = 'slack-app-signing-secret-after-rotation';
    try {
      // The operator regenerated the secret: SLACK_SIGNING_SECRET is the new one, _PREVIOUS the old one.
      h.services.appWebhookSecrets = appWebhookSecrets({
        ...TEST_APPS,
        slack: { ...TEST_APPS.slack!, signingSecret: rotated, previousSigningSecret: SLACK_APP.signingSecret },
      });
      await h.withWorker(async () => {
        for (const [i, secret] of [SLACK_APP.signingSecret, rotated].entries()) {
          const delivered = event(a.teamId, `EvRot000${i}`, { type: 'channel_rename', channel: { id: 'C0001' } });
          expect((await send(delivered, { secret })).statusCode).toBe(202);
        }
      });
      h.services.appWebhookSecrets = appWebhookSecrets({
        ...TEST_APPS,
        slack: { ...TEST_APPS.slack!, signingSecret: rotated },
      });
      const late = event(a.teamId, 'EvRot0009', { type: 'channel_rename', channel: { id: 'C0001' } });
      expect((await send(late, { secret: SLACK_APP.signingSecret })).statusCode).toBe(401);
    } finally {
      h.services.appWebhookSecrets = configured;
    }
  });
});
