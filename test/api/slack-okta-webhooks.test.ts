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
  const oktaHook = (eventId: string) => ({
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
    eventTime: new Date().toISOString(),
    contentType: 'application/json',
  });

  it('T21 [okta]: the Okta verification GET is echoed only with the configured Authorization value; deliveries need it too and are deduplicated by eventId', async () => {
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
      const replayed = await okta('POST', { authorization: endpoints.okta.secret }, oktaHook(eventId));
      expect([replayed.statusCode, replayed.json()]).toEqual([202, { received: 0, duplicates: 1 }]);
      expect((await deliveriesOf(endpoints.okta.endpointId)).map((d) => [d.delivery_id, d.event_type])).toEqual([
        [eventId, 'user.lifecycle.deactivate'],
      ]);
      expect((await received(endpoints.okta.lifecycleId)).filter((e) => e.name === 'syncRequested')).toHaveLength(1);
      // Not an event hook at all: nothing to act on, refused like a forgery.
      expect((await okta('POST', { authorization: endpoints.okta.secret }, { hello: 'world' })).statusCode).toBe(401);
    });
  });
});
