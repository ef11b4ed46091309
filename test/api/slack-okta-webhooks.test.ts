/**
 * T21 for the wave-2 webhook contracts the receiver already serves: Okta event hooks (one-time
 * `X-Okta-Verification-Challenge`, static `Authorization` value, `eventId` dedup). A forged or
 * replayed delivery changes nothing; a forged one is 401, never a 5xx. (Slack, built, posts to the
 * app-level receiver: `slack-webhooks.test.ts`.)
 */
import crypto from 'node:crypto';
import { receivedQuery } from './support/contractWorkflows';
import { createHarness, seedWebhookEndpoint, type Harness, type SeededEndpoint } from './support/harness';

describe('Okta webhook receiver (real Postgres + Temporal dev server)', () => {
  let h: Harness;
  const ws = crypto.randomUUID();
  const endpoints = {} as Record<'okta', SeededEndpoint>;

  beforeAll(async () => {
    h = await createHarness();
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
