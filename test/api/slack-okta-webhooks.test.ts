/**
 * T21 for the wave-2 webhook contracts the receiver already serves: Slack (signed requests,
 * `url_verification`, five-minute window, `event_id` dedup) and Okta event hooks (one-time
 * `X-Okta-Verification-Challenge`, static `Authorization` value, `eventId` dedup). A forged, stale
 * or replayed delivery changes nothing; a forged one is 401, never a 5xx.
 */
import crypto from 'node:crypto';
import { hmacSha256Hex } from '../../activities/vendors/shared/signatures';
import { receivedQuery } from './support/contractWorkflows';
import { createHarness, seedWebhookEndpoint, type Harness, type SeededEndpoint } from './support/harness';

describe('Slack and Okta webhook receivers (real Postgres + Temporal dev server)', () => {
  let h: Harness;
  const ws = crypto.randomUUID();
  const endpoints = {} as Record<'slack' | 'okta', SeededEndpoint>;

  beforeAll(async () => {
    h = await createHarness();
    endpoints.slack = await seedWebhookEndpoint(h, ws, 'slack');
    endpoints.okta = await seedWebhookEndpoint(h, ws, 'okta');
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
  const deliveriesOf = (endpointId: string) => h.su('webhook_deliveries').where({ endpoint_id: endpointId });

  /** Signs like Slack: `v0=` + HMAC-SHA256(signing secret, `v0:{ts}:{body}`). */
  const slack = (
    payload: Record<string, unknown>,
    options: { secret?: string; timestamp?: number; retry?: number; endpoint?: SeededEndpoint } = {},
  ) => {
    const body = JSON.stringify(payload);
    const timestamp = String(options.timestamp ?? Math.floor(Date.now() / 1000));
    return h.app.inject({
      method: 'POST',
      url: (options.endpoint ?? endpoints.slack).url,
      headers: {
        'content-type': 'application/json',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': `v0=${hmacSha256Hex(options.secret ?? endpoints.slack.secret, `v0:${timestamp}:${body}`)}`,
        ...(options.retry
          ? { 'x-slack-retry-num': String(options.retry), 'x-slack-retry-reason': 'http_timeout' }
          : {}),
      },
      payload: body,
    });
  };
  const slackEvent = (eventId: string, type = 'message') => ({
    type: 'event_callback',
    team_id: 'T0001',
    api_app_id: 'A0001',
    event_id: eventId,
    event_time: 1_700_000_000,
    event: { type, channel: 'C0001' },
  });

  it('T21 [slack]: Slack url_verification is answered only when signed; a signed event is recorded once and wakes the lifecycle, a retry of it changes nothing', async () => {
    await h.withWorker(async () => {
      const challenge = crypto.randomUUID().replace(/-/g, '');
      const answered = await slack({ token: 'legacy', challenge, type: 'url_verification' });
      expect([answered.statusCode, answered.body]).toEqual([200, challenge]);
      const forgedChallenge = await slack(
        { token: 'legacy', challenge, type: 'url_verification' },
        { secret: 'not-the-signing-secret' },
      );
      expect(forgedChallenge.statusCode).toBe(401);
      expect(forgedChallenge.body).not.toContain(challenge);

      const first = await slack(slackEvent('Ev0001'));
      expect([first.statusCode, first.json()]).toEqual([202, { received: 1, duplicates: 0 }]);
      const retried = await slack(slackEvent('Ev0001'), { retry: 1 });
      expect([retried.statusCode, retried.json()]).toEqual([202, { received: 0, duplicates: 1 }]);
      expect((await deliveriesOf(endpoints.slack.endpointId)).map((d) => [d.delivery_id, d.event_type])).toEqual([
        ['Ev0001', 'message'],
      ]);
      expect((await received(endpoints.slack.lifecycleId)).filter((e) => e.name === 'syncRequested')).toHaveLength(1);
    });
  });

  it('T21 [slack]: Slack deliveries that are forged, stale (> 5 min) or for another workspace are 401 and change nothing; tokens_revoked marks the grant lost', async () => {
    await h.withWorker(async () => {
      const before = (await deliveriesOf(endpoints.slack.endpointId)).length;
      expect((await slack(slackEvent('Ev0100'), { secret: 'wrong' })).statusCode).toBe(401);
      expect(
        (await slack(slackEvent('Ev0101'), { timestamp: Math.floor(Date.now() / 1000) - 6 * 60 })).statusCode,
      ).toBe(401);
      const foreign = await slack(slackEvent('Ev0102'), {
        endpoint: {
          ...endpoints.slack,
          url: `/v1/webhooks/slack/${crypto.randomUUID()}/${endpoints.slack.endpointId}`,
        },
      });
      expect(foreign.statusCode).toBe(401);
      expect(await deliveriesOf(endpoints.slack.endpointId)).toHaveLength(before);

      expect((await slack(slackEvent('Ev0200', 'tokens_revoked'))).statusCode).toBe(202);
      const lifecycleEvents = (await received(endpoints.slack.lifecycleId))
        .filter((e) => e.name === 'vendorLifecycle')
        .map((e) => e.arg);
      expect(lifecycleEvents).toEqual([{ event: 'reauthorizationRequired' }]);
    });
  });

  const okta = (method: 'GET' | 'POST', headers: Record<string, string>, payload?: Record<string, unknown>) =>
    h.app.inject({
      method,
      url: endpoints.okta.url,
      headers: { ...(payload ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(payload ? { payload: JSON.stringify(payload) } : {}),
    });
  const oktaHook = (eventId: string, eventTime = new Date()) => ({
    eventType: 'com.okta.event_hook',
    eventTypeVersion: '1.0',
    cloudEventsVersion: '0.1',
    source: 'https://acme.okta.com/api/v1/eventHooks/who8ldg2hr',
    eventId,
    data: {
      events: [
        { uuid: crypto.randomUUID(), eventType: 'user.lifecycle.deactivate', published: new Date().toISOString() },
      ],
    },
    eventTime: eventTime.toISOString(),
    contentType: 'application/json',
  });

  it('T21 [okta]: the Okta verification GET is echoed only with the configured Authorization value; deliveries need it too, and a replayed eventId is 401', async () => {
    await h.withWorker(async () => {
      const challenge = crypto.randomBytes(24).toString('base64url');
      const verified = await okta('GET', {
        'x-okta-verification-challenge': challenge,
        authorization: endpoints.okta.secret,
      });
      expect([verified.statusCode, verified.json()]).toEqual([200, { verification: challenge }]);
      const unauthorized = await okta('GET', { 'x-okta-verification-challenge': challenge, authorization: 'guess' });
      expect(unauthorized.statusCode).toBe(401);
      expect(unauthorized.body).not.toContain(challenge);

      const eventId = crypto.randomUUID();
      expect((await okta('POST', { authorization: 'guess' }, oktaHook(eventId))).statusCode).toBe(401);
      const first = await okta('POST', { authorization: endpoints.okta.secret }, oktaHook(eventId));
      expect([first.statusCode, first.json()]).toEqual([202, { received: 1, duplicates: 0 }]);
      // No signature, no signed timestamp: a repeated eventId is more likely a capture than Okta's retry.
      const replayed = await okta('POST', { authorization: endpoints.okta.secret }, oktaHook(eventId));
      expect(replayed.statusCode).toBe(401);
      expect((await deliveriesOf(endpoints.okta.endpointId)).map((d) => [d.delivery_id, d.event_type])).toEqual([
        [eventId, 'user.lifecycle.deactivate'],
      ]);
      expect((await received(endpoints.okta.lifecycleId)).filter((e) => e.name === 'syncRequested')).toHaveLength(1);
      // Not an event hook at all: nothing to act on, refused like a forgery.
      expect((await okta('POST', { authorization: endpoints.okta.secret }, { hello: 'world' })).statusCode).toBe(401);
    });
  });

  it('T21 [okta]: forged, stale and replayed Okta deliveries are 401 and change nothing', async () => {
    await h.withWorker(async () => {
      const syncRequests = async () =>
        (await received(endpoints.okta.lifecycleId)).filter((e) => e.name === 'syncRequested').length;
      const deliveriesBefore = (await deliveriesOf(endpoints.okta.endpointId)).length;
      const syncsBefore = await syncRequests();
      const secret = endpoints.okta.secret;
      const refused = [
        await okta('POST', { authorization: `${secret}x` }, oktaHook(crypto.randomUUID())),
        await okta('POST', {}, oktaHook(crypto.randomUUID())),
        // Stale: sent long before (a captured delivery re-posted later), or from the future.
        await okta(
          'POST',
          { authorization: secret },
          oktaHook(crypto.randomUUID(), new Date(Date.now() - 11 * 60_000)),
        ),
        await okta('POST', { authorization: secret }, oktaHook(crypto.randomUUID(), new Date(Date.now() + 5 * 60_000))),
        await okta('POST', { authorization: secret }, { ...oktaHook(crypto.randomUUID()), eventTime: 'yesterday' }),
      ];
      const eventId = crypto.randomUUID();
      expect((await okta('POST', { authorization: secret }, oktaHook(eventId))).statusCode).toBe(202);
      const afterGenuine = (await deliveriesOf(endpoints.okta.endpointId)).length;
      refused.push(await okta('POST', { authorization: secret }, oktaHook(eventId)));
      for (const response of refused) {
        expect(response.statusCode).toBe(401);
        expect(response.headers['content-type']).toContain('application/problem+json');
      }
      expect(afterGenuine).toBe(deliveriesBefore + 1);
      expect(await deliveriesOf(endpoints.okta.endpointId)).toHaveLength(deliveriesBefore + 1);
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(await syncRequests()).toBe(syncsBefore + 1);
    });
  });
});
