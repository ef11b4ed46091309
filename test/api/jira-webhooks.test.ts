/**
 * T21 for Jira: OAuth-app deliveries carry a JWT signed with our app's client secret, the same for
 * every customer. Each webhook is registered with its endpoint's URL token and the JWT's `qsh`
 * covers that URL: a delivery is accepted only at the endpoint it was sent to, once. The real
 * emulator signs and POSTs the deliveries to the listening API; captured ones are replayed with
 * `inject`. Forged, expired, foreign, replayed or misdirected → 401 or a repeat, nothing changes.
 */
import crypto from 'node:crypto';
import { jiraCallbackUrl } from '../../activities/vendors/jira';
import { startJiraEmulator, type JiraEmulator } from '../../emulators/jira';
import { receivedQuery } from './support/contractWorkflows';
import {
  createHarness,
  JIRA_APP,
  seedWebhookEndpoint,
  type Harness,
  type SeededEndpoint,
  stopLifecycles,
} from './support/harness';

describe('T21 [jira]: Jira webhook receiver', () => {
  let h: Harness;
  let jira: JiraEmulator;
  let apiUrl = '';
  const endpoints: Record<'a' | 'b', SeededEndpoint> = {} as never;

  beforeAll(async () => {
    h = await createHarness();
    apiUrl = await h.app.listen({ port: 0, host: '127.0.0.1' });
    jira = await startJiraEmulator({ ...JIRA_APP, redirectUris: [], appScopes: [] });
    // Two customers' Jira integrations: Jira signs both workspaces' deliveries with the same secret.
    endpoints.a = await seedWebhookEndpoint(h, crypto.randomUUID(), 'jira');
    endpoints.b = await seedWebhookEndpoint(h, crypto.randomUUID(), 'jira');
  });
  afterAll(async () => {
    await stopLifecycles(
      h,
      Object.values(endpoints).map((e) => e.lifecycleId),
    );
    await jira.stop();
    await h.close();
  });

  /** The URL the connector registers the endpoint's webhook with. */
  const registered = (e: SeededEndpoint) => jiraCallbackUrl(`${apiUrl}${e.url}`, e.secret);
  const payload = (event: string) => ({
    timestamp: Date.now(),
    webhookEvent: event,
    issue: { id: '10042', key: 'SITE-42' },
    matchedWebhookIds: [1],
  });
  /** Each delivery a second after the last: a JWT's claims (and so its replay key) change by the second. */
  const send = async (url: string, input: Parameters<JiraEmulator['control']['sendWebhook']>[1]) => {
    jira.control.clock.advance(1000);
    return jira.control.sendWebhook(url, input);
  };
  /** Re-posts the last delivery Jira sent, as an attacker who captured it would, to any path. */
  const replay = (path: string, headers: Record<string, string> = {}) => {
    const captured = jira.control.lastDelivery()!;
    return h.app.inject({
      method: 'POST',
      url: path,
      headers: { ...captured.headers, 'content-type': 'application/json', ...headers },
      payload: captured.body,
    });
  };
  const pathOf = (url: string) => new URL(url).pathname + new URL(url).search;
  const rowsOf = (e: SeededEndpoint) => h.su('webhook_deliveries').where({ endpoint_id: e.endpointId });
  const syncSignals = async (e: SeededEndpoint) =>
    (await h.services.temporal.client.workflow.getHandle(e.lifecycleId).query(receivedQuery))
      .filter((entry) => entry.name === 'syncRequested')
      .map((entry) => entry.arg);

  it('T21 [jira]: a signed delivery is recorded once and wakes the lifecycle; its JWT replayed under a new identifier is a repeat; a deletion asks for a reconciling round', async () => {
    await h.withWorker(async () => {
      expect(await send(registered(endpoints.a), { payload: payload('jira:issue_updated') })).toBe(202);
      // The identifier is not signed: the captured JWT under a fresh one is the same delivery.
      const again = await replay(pathOf(registered(endpoints.a)), {
        'x-atlassian-webhook-identifier': crypto.randomUUID(),
      });
      expect([again.statusCode, again.json()]).toEqual([202, { received: 0, duplicates: 1 }]);
      // Nor is the body: a replay that claims a deletion is still a repeat.
      const claimsDeletion = await h.app.inject({
        method: 'POST',
        url: pathOf(registered(endpoints.a)),
        headers: { ...jira.control.lastDelivery()!.headers, 'content-type': 'application/json' },
        payload: JSON.stringify(payload('jira:issue_deleted')),
      });
      expect(claimsDeletion.json()).toEqual({ received: 0, duplicates: 1 });
      expect(await send(registered(endpoints.a), { payload: payload('jira:issue_deleted') })).toBe(202);
      expect(await rowsOf(endpoints.a)).toHaveLength(2);
      expect(await syncSignals(endpoints.a)).toEqual([
        { reason: 'webhook' },
        { reason: 'webhook', resource: 'issues', full: true },
      ]);
    });
  });

  it("T21 [jira]: a JWT captured at one workspace's endpoint is refused at another's, with or without that endpoint's URL token", async () => {
    await h.withWorker(async () => {
      expect(await send(registered(endpoints.a), { payload: payload('jira:issue_updated') })).toBe(202);
      const token = (e: SeededEndpoint) => new URL(registered(e)).search;
      const misdirected = [
        await replay(endpoints.b.url),
        await replay(`${endpoints.b.url}${token(endpoints.a)}`),
        // Even knowing B's own token does not help: the JWT's qsh covers A's URL.
        await replay(`${endpoints.b.url}${token(endpoints.b)}`),
        // A's endpoint under B's workspace: RLS finds nothing.
        await replay(`${endpoints.a.url.replace(endpoints.a.url.split('/')[4]!, crypto.randomUUID())}`),
      ];
      for (const response of misdirected) {
        expect(response.statusCode).toBe(401);
        expect(response.headers['content-type']).toContain('application/problem+json');
      }
      expect(await rowsOf(endpoints.b)).toHaveLength(0);
      expect(await syncSignals(endpoints.b)).toEqual([]);
    });
  });

  it('T21 [jira]: a JWT without qsh covers no URL: it is accepted only with the endpoint’s URL token', async () => {
    await h.withWorker(async () => {
      const before = (await rowsOf(endpoints.b)).length;
      expect(await send(`${apiUrl}${endpoints.b.url}`, { payload: payload('jira:issue_updated'), qsh: false })).toBe(
        401,
      );
      expect(
        await send(registered(endpoints.a).replace(endpoints.a.url, endpoints.b.url), {
          payload: payload('jira:issue_updated'),
          qsh: false,
        }),
      ).toBe(401);
      expect(await send(registered(endpoints.b), { payload: payload('jira:issue_updated'), qsh: false })).toBe(202);
      expect(await rowsOf(endpoints.b)).toHaveLength(before + 1);
    });
  });

  it('T21 [jira]: forged, expired and wrong-issuer deliveries are 401 and change nothing', async () => {
    const before = (await rowsOf(endpoints.a)).length;
    const url = registered(endpoints.a);
    const statuses = [
      await send(url, { payload: payload('jira:issue_updated'), secret: 'not-our-client-secret-0123456789abcdef' }),
      await send(url, { payload: payload('jira:issue_updated'), expiresInSeconds: -60 }),
      await send(url, { payload: payload('jira:issue_updated'), issuer: 'someone-else' }),
    ];
    const unsigned = await h.app.inject({
      method: 'POST',
      url: pathOf(url),
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify(payload('jira:issue_updated')),
    });
    expect([...statuses, unsigned.statusCode]).toEqual([401, 401, 401, 401]);
    expect(await rowsOf(endpoints.a)).toHaveLength(before);
  });
});
