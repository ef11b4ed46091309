/**
 * T21 for Procore: Procore signs nothing. Each hook is created (by the real connector, at the
 * Procore emulator) with its endpoint's destination header, which the emulator sends back
 * verbatim; the receiver compares it in constant time, refuses deliveries outside Procore's
 * 12-hour retry window, and dedups on the delivery's `ulid`. Forged, misdirected, stale and
 * replayed-after-the-window deliveries are 401 and change nothing; a repeat inside the window is
 * acknowledged as a duplicate and changes nothing either.
 */
import crypto from 'node:crypto';
import { DELIVERY_MAX_AGE_MS, procoreDestinationToken } from '../../activities/vendors/procore';
import { startProcoreHarness, type ProcoreHarness } from '../vendors/procore/harness';
import { receivedQuery } from './support/contractWorkflows';
import {
  createHarness,
  seedWebhookEndpoint,
  type Harness,
  type SeededEndpoint,
  stopLifecycles,
} from './support/harness';

describe('T21 [procore]: Procore webhook receiver', () => {
  let h: Harness;
  let procore: ProcoreHarness;
  let apiUrl = '';
  const endpoints: Record<'a' | 'b', SeededEndpoint> = {} as never;

  beforeAll(async () => {
    h = await createHarness();
    apiUrl = await h.app.listen({ port: 0, host: '127.0.0.1' });
    procore = await startProcoreHarness();
    const selection = { projects: [String(procore.projects.tower.id)] };
    endpoints.a = await seedWebhookEndpoint(h, crypto.randomUUID(), 'procore', selection);
    endpoints.b = await seedWebhookEndpoint(h, crypto.randomUUID(), 'procore', selection);
    // Endpoint A's hook on Tower A, created as the connector creates it.
    const credential = await procore.connect();
    await procore.connector.registerWebhooks(procore.context(credential, { controls: selection }), {
      callbackUrl: `${apiUrl}${endpoints.a.url}`,
      clientState: endpoints.a.secret,
    });
  });
  afterAll(async () => {
    await stopLifecycles(
      h,
      Object.values(endpoints).map((e) => e.lifecycleId),
    );
    await procore.emulator.stop();
    await h.close();
  });

  const rowsOf = (e: SeededEndpoint) => h.su('webhook_deliveries').where({ endpoint_id: e.endpointId });
  const syncSignals = async (e: SeededEndpoint) =>
    (await h.services.temporal.client.workflow.getHandle(e.lifecycleId).query(receivedQuery))
      .filter((entry) => entry.name === 'syncRequested')
      .map((entry) => entry.arg);
  const lastDelivery = () => procore.emulator.control.deliveries().at(-1)!;
  const post = (url: string, headers: Record<string, string>, body: string) =>
    h.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: body });
  /** A delivery body as Procore sends it, stamped `ageMs` ago. */
  const body = (ageMs = 0, eventType = 'update', projectId = procore.projects.tower.id) =>
    JSON.stringify({
      id: 1,
      ulid: crypto.randomBytes(13).toString('hex').toUpperCase(),
      timestamp: new Date(Date.now() - ageMs).toISOString(),
      project_id: projectId,
      event_type: eventType,
      resource_type: 'RFIs',
      resource_id: 42,
      api_version: 'v2',
    });

  it('T21 [procore]: a delivery carrying the endpoint’s destination header is recorded once and asks an incremental round of its resource; the same delivery again is a repeat; a delete asks a reconciling round', async () => {
    const rfi = procore.emulator.control.addItem(procore.projects.tower.id, 'rfis', {
      subject: 'Door',
      status: 'open',
    });
    await h.withWorker(async () => {
      expect(await procore.emulator.control.deliver(rfi.id, 'update')).toEqual([202]);
      const first = lastDelivery();
      expect(first.headers.Authorization).toBe(`Bearer ${procoreDestinationToken(endpoints.a.secret)}`);
      // Procore retries a delivery it thinks failed with the same ulid: acknowledged, nothing changes.
      const again = await post(endpoints.a.url, first.headers, first.body);
      expect([again.statusCode, again.json()]).toEqual([202, { received: 0, duplicates: 1 }]);
      expect(await procore.emulator.control.deleteItem(rfi.id)).toEqual([202]);
      expect(await rowsOf(endpoints.a)).toHaveLength(2);
      expect(await syncSignals(endpoints.a)).toEqual([
        { reason: 'webhook', resource: 'rfis', full: false },
        { reason: 'webhook', resource: 'rfis', full: true },
      ]);
    });
  });

  it('T21 [procore]: forged deliveries (no header, a wrong token, the raw secret, another endpoint’s token, another workspace’s path) are 401 and change nothing', async () => {
    const before = { a: (await rowsOf(endpoints.a)).length, b: (await rowsOf(endpoints.b)).length };
    const responses = [
      await post(endpoints.a.url, {}, body()),
      await post(endpoints.a.url, { authorization: `Bearer ${'0'.repeat(64)}` }, body()),
      await post(endpoints.a.url, { authorization: `Bearer ${endpoints.a.secret}` }, body()),
      await post(endpoints.a.url, { authorization: `Bearer ${procoreDestinationToken(endpoints.b.secret)}` }, body()),
      // A's token at B's endpoint: each endpoint has its own token.
      await post(endpoints.b.url, { authorization: `Bearer ${procoreDestinationToken(endpoints.a.secret)}` }, body()),
      // A's endpoint under another workspace: RLS finds nothing.
      await post(
        endpoints.a.url.replace(endpoints.a.url.split('/')[4]!, crypto.randomUUID()),
        { authorization: `Bearer ${procoreDestinationToken(endpoints.a.secret)}` },
        body(),
      ),
      // The right header on something that is not a Procore delivery.
      await post(endpoints.a.url, { authorization: `Bearer ${procoreDestinationToken(endpoints.a.secret)}` }, '{}'),
    ];
    for (const response of responses) {
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    expect((await rowsOf(endpoints.a)).length).toBe(before.a);
    expect((await rowsOf(endpoints.b)).length).toBe(before.b);
  });

  it('T21 [procore]: stale deliveries, and a captured delivery replayed after Procore’s 12-hour retry window, are 401', async () => {
    const before = (await rowsOf(endpoints.a)).length;
    const token = { authorization: `Bearer ${procoreDestinationToken(endpoints.a.secret)}` };
    const stale = await post(endpoints.a.url, token, body(DELIVERY_MAX_AGE_MS + 60_000));
    const future = await post(endpoints.a.url, token, body(-60 * 60_000));
    // A genuine delivery captured now, replayed once its window has passed.
    const rfi = procore.emulator.control.addItem(procore.projects.tower.id, 'rfis', {
      subject: 'Slab',
      status: 'open',
    });
    procore.emulator.control.clock.advance(-(DELIVERY_MAX_AGE_MS + 60_000));
    try {
      expect(await procore.emulator.control.deliver(rfi.id, 'create')).toEqual([401]);
    } finally {
      procore.emulator.control.clock.advance(DELIVERY_MAX_AGE_MS + 60_000);
    }
    const captured = lastDelivery();
    const replayed = await post(endpoints.a.url, captured.headers, captured.body);
    expect([stale.statusCode, future.statusCode, replayed.statusCode]).toEqual([401, 401, 401]);
    expect((await rowsOf(endpoints.a)).length).toBe(before);
  });

  it('T18 T21 [procore]: an authentic delivery about a project outside the selection (a deselected project, one never selected, none named) is 403 problem+json and records nothing', async () => {
    const before = (await rowsOf(endpoints.a)).length;
    const token = { authorization: `Bearer ${procoreDestinationToken(endpoints.a.secret)}` };
    const { depot, office } = procore.projects;
    const noProject = JSON.stringify({ ...JSON.parse(body()), project_id: undefined });
    for (const payload of [body(0, 'update', depot.id), body(0, 'create', office.id), noProject]) {
      const response = await post(endpoints.a.url, token, payload);
      expect(response.statusCode).toBe(403);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    expect((await rowsOf(endpoints.a)).length).toBe(before);
  });
});
