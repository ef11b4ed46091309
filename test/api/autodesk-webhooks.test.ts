/**
 * T21 for Autodesk Construction Cloud: hooks are created by the real connector at the APS emulator
 * with a per-hook secret token derived from the endpoint's secret; APS signs each callback with it
 * (`x-adsk-signature: sha1hash=<HMAC-SHA1 of the raw body>`), and the receiver checks that before
 * anything else. A verified callback asks an incremental round of the documents; forged, misdirected,
 * stale and replayed callbacks are 401 and change nothing.
 */
import crypto from 'node:crypto';
import { DELIVERY_MAX_AGE_MS, adskSignature, autodeskHookToken } from '../../activities/vendors/autodesk';
import { startAutodeskHarness, type AutodeskHarness } from '../vendors/autodesk/harness';
import { receivedQuery } from './support/contractWorkflows';
import {
  createHarness,
  seedWebhookEndpoint,
  type Harness,
  type SeededEndpoint,
  stopLifecycles,
} from './support/harness';

describe('T21 [autodesk-acc]: APS webhook receiver', () => {
  let h: Harness;
  let aps: AutodeskHarness;
  let apiUrl = '';
  const endpoints: Record<'a' | 'b', SeededEndpoint> = {} as never;

  beforeAll(async () => {
    h = await createHarness();
    apiUrl = await h.app.listen({ port: 0, host: '127.0.0.1' });
    aps = await startAutodeskHarness();
    endpoints.a = await seedWebhookEndpoint(h, crypto.randomUUID(), 'autodesk-acc');
    endpoints.b = await seedWebhookEndpoint(h, crypto.randomUUID(), 'autodesk-acc');
    // Endpoint A's hooks on Tower A, created as the connector creates them.
    const credential = await aps.connect();
    await aps.connector.registerWebhooks(aps.context(credential, { controls: { projects: [aps.projects.tower.id] } }), {
      callbackUrl: `${apiUrl}${endpoints.a.url}`,
      clientState: endpoints.a.secret,
    });
  });
  afterAll(async () => {
    await stopLifecycles(
      h,
      Object.values(endpoints).map((e) => e.lifecycleId),
    );
    await aps.emulator.stop();
    await h.close();
  });

  const rowsOf = (e: SeededEndpoint) => h.su('webhook_deliveries').where({ endpoint_id: e.endpointId });
  const syncSignals = async (e: SeededEndpoint) =>
    (await h.services.temporal.client.workflow.getHandle(e.lifecycleId).query(receivedQuery))
      .filter((entry) => entry.name === 'syncRequested')
      .map((entry) => entry.arg);
  const lastDelivery = () => aps.emulator.control.deliveries().at(-1)!;
  const post = (url: string, headers: Record<string, string>, body: string) =>
    h.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: body });
  /** A callback body as APS sends it, for an event `ageMs` ago. */
  const body = (ageMs = 0) =>
    JSON.stringify({
      version: '1.0',
      resourceUrn: `urn:adsk.wipprod:fs.file:${crypto.randomUUID()}?version=1`,
      hook: { hookId: crypto.randomUUID(), event: 'dm.version.added', system: 'data' },
      payload: { name: 'A-101.pdf', modifiedTime: new Date(Date.now() - ageMs).toISOString() },
    });
  const signedFor = (secret: string, raw: string) => ({
    'x-adsk-signature': adskSignature(autodeskHookToken(secret), raw),
  });

  it('T21 [autodesk-acc]: a callback APS signed with the hook’s token is recorded once and asks an incremental round of the documents; the same callback again is refused', async () => {
    const { tower } = aps.projects;
    await h.withWorker(async () => {
      const document = await aps.emulator.control.addDocument(tower.id, tower.topFolders[0]!, 'A-101.pdf');
      const first = lastDelivery();
      expect(first.status).toBe(202);
      expect(first.headers['x-adsk-signature']).toMatch(/^sha1hash=[0-9a-f]{40}$/);
      const replayed = await post(endpoints.a.url, first.headers, first.body);
      expect(replayed.statusCode).toBe(401);
      expect(await aps.emulator.control.updateDocument(document.id)).toEqual([202]);
      expect(await rowsOf(endpoints.a)).toHaveLength(2);
      expect(await syncSignals(endpoints.a)).toEqual([
        { reason: 'webhook', resource: 'documents', full: false },
        { reason: 'webhook', resource: 'documents', full: false },
      ]);
    });
  });

  it('T21 [autodesk-acc]: forged callbacks (no signature, a wrong one, one made with the raw secret, another endpoint’s token, another workspace’s path, an altered body) are 401 and change nothing', async () => {
    const before = { a: (await rowsOf(endpoints.a)).length, b: (await rowsOf(endpoints.b)).length };
    const raw = body();
    const sha1 = (key: string) => `sha1hash=${crypto.createHmac('sha1', key).update(raw).digest('hex')}`;
    const responses = [
      await post(endpoints.a.url, {}, raw),
      await post(endpoints.a.url, { 'x-adsk-signature': `sha1hash=${'0'.repeat(40)}` }, raw),
      await post(endpoints.a.url, { 'x-adsk-signature': sha1(endpoints.a.secret) }, raw),
      await post(endpoints.a.url, signedFor(endpoints.b.secret, raw), raw),
      // A's signature at B's endpoint: each endpoint has its own token.
      await post(endpoints.b.url, signedFor(endpoints.a.secret, raw), raw),
      // A's endpoint under another workspace: RLS finds nothing.
      await post(
        endpoints.a.url.replace(endpoints.a.url.split('/')[4]!, crypto.randomUUID()),
        signedFor(endpoints.a.secret, raw),
        raw,
      ),
      await post(endpoints.a.url, signedFor(endpoints.a.secret, raw), raw.replace('A-101', 'A-666')),
      // The right signature on something that is not an APS callback.
      await post(endpoints.a.url, signedFor(endpoints.a.secret, '{}'), '{}'),
    ];
    for (const response of responses) {
      expect(response.statusCode).toBe(401);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
    expect((await rowsOf(endpoints.a)).length).toBe(before.a);
    expect((await rowsOf(endpoints.b)).length).toBe(before.b);
  });

  it('T21 [autodesk-acc]: correctly signed callbacks of an event older than the delivery window, or from the future, are 401', async () => {
    const before = (await rowsOf(endpoints.a)).length;
    const stale = body(DELIVERY_MAX_AGE_MS + 60_000);
    const future = body(-60 * 60_000);
    const responses = [
      await post(endpoints.a.url, signedFor(endpoints.a.secret, stale), stale),
      await post(endpoints.a.url, signedFor(endpoints.a.secret, future), future),
    ];
    expect(responses.map((r) => r.statusCode)).toEqual([401, 401]);
    expect((await rowsOf(endpoints.a)).length).toBe(before);
  });
});
