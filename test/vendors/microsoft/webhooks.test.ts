/** Graph change notifications: subscription lifecycle through the connector, receiving through webhooks.ts. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseNotifications, validationReply, type GraphNotification } from '../../../activities/vendors/microsoft';
import { MAX_SUBSCRIPTION_MINUTES } from '../../../activities/vendors/microsoft/descriptor';
import type { MicrosoftEmulator } from '../../../emulators/microsoft';
import { failureOf, grantSiteToApp, startMicrosoftHarness, type MicrosoftHarness } from './harness';

/**
 * A receiver built like the API's: answer validation, verify clientState, then 202. It listens on
 * http, as the API does; Graph reaches it through an https front (`url`), callers on loopback at `httpUrl`.
 */
async function startReceiver(emulator: MicrosoftEmulator, options: { echoValidation: boolean }) {
  const clientStates = new Map<string, string>();
  const accepted: GraphNotification[] = [];
  let rejected = 0;
  let validations = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const query = new URL(req.url ?? '/', 'http://receiver').searchParams;
      const validation = validationReply(query);
      if (validation) {
        validations += 1;
        res.writeHead(validation.status, { 'content-type': validation.contentType });
        res.end(options.echoValidation ? validation.body : 'wrong');
        return;
      }
      const parsed = parseNotifications(JSON.parse(Buffer.concat(chunks).toString('utf8')), (id) =>
        clientStates.get(id),
      );
      accepted.push(...parsed.accepted);
      rejected += parsed.rejected;
      res.writeHead(parsed.rejected > 0 && parsed.accepted.length === 0 ? 401 : 202);
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const front = await emulator.httpsFront(origin);
  return {
    url: `${front.url}/webhooks/microsoft`,
    httpUrl: `${origin}/webhooks/microsoft`,
    clientStates,
    accepted,
    stats: () => ({ rejected, validations }),
    stop: async () => {
      await front.stop();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

let harness: MicrosoftHarness;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
beforeAll(async () => {
  harness = await startMicrosoftHarness();
  receiver = await startReceiver(harness.emulator, { echoValidation: true });
});
afterAll(async () => {
  await receiver.stop();
  await harness.stop();
});

describe('Graph change notifications (T11, T21)', () => {
  test('T11 T21 [microsoft365]: create (validated) → notify with clientState → renew → lifecycle → delete', async () => {
    const { control } = harness.emulator;
    const { tokens } = await harness.connect('microsoft365');
    const ctx = harness.context('microsoft365', tokens);
    const clientState = 'cs-7f3a9c2e4b1d8a6f0e5c3b2a1d9e8f7c';
    const subscriptions = await harness.connector.registerWebhooks(ctx, { callbackUrl: receiver.url, clientState });
    expect(subscriptions.map((subscription) => subscription.resource).sort()).toEqual(['me/drive/root', 'me/events']);
    // Notification URL and lifecycle URL are the same endpoint: validated once per subscription.
    expect(receiver.stats().validations).toBe(2);
    const now = control.now();
    const events = subscriptions.find((subscription) => subscription.resource === 'me/events')!;
    const drive = subscriptions.find((subscription) => subscription.resource === 'me/drive/root')!;
    expect(events.expiresAt! - now).toBeLessThanOrEqual(MAX_SUBSCRIPTION_MINUTES.outlook * 60_000);
    expect(events.expiresAt! - now).toBeGreaterThan((MAX_SUBSCRIPTION_MINUTES.outlook - 5) * 60_000);
    expect(drive.expiresAt! - now).toBeGreaterThan((MAX_SUBSCRIPTION_MINUTES.driveItem - 5) * 60_000);
    for (const subscription of subscriptions) receiver.clientStates.set(subscription.externalId, clientState);

    await control.upsertItem('me/drive/root', { id: 'doc-1', name: 'spec.pdf' });
    expect(receiver.accepted).toEqual([
      { kind: 'change', subscriptionId: drive.externalId, changeType: 'updated', resource: 'me/drive/root' },
    ]);

    // A day later the access token has expired (75 min): renewal runs on a refreshed credential.
    control.advanceClock(24 * 60 * 60 * 1000);
    expect((await failureOf(harness.connector.renewSubscription(ctx, events))).type).toBe('ReauthorizationRequired');
    ctx.credential = await harness.connector.refresh(ctx);
    const renewed = await harness.connector.renewSubscription(ctx, events);
    expect(renewed.expiresAt).toBeGreaterThan(events.expiresAt!);
    expect(renewed.expiresAt! - control.now()).toBeLessThanOrEqual(MAX_SUBSCRIPTION_MINUTES.outlook * 60_000);

    await control.sendLifecycleNotification(drive.externalId, 'reauthorizationRequired');
    expect(receiver.accepted.at(-1)).toEqual({
      kind: 'lifecycle',
      subscriptionId: drive.externalId,
      event: 'reauthorizationRequired',
    });

    await harness.connector.deleteSubscription(ctx, drive);
    await harness.connector.deleteSubscription(ctx, drive);
    expect(control.graph.subscriptions.has(drive.externalId)).toBe(false);
    expect(ctx.auditEntries.map((entry) => entry.action)).toEqual([
      'subscription.create',
      'subscription.create',
      'subscription.renew',
      'oauth.refresh',
      'subscription.renew',
      'subscription.delete',
      'subscription.delete',
    ]);
  });

  test('T21 [microsoft365]: a notification with a forged clientState is rejected by the receiver', async () => {
    receiver.clientStates.set('sub-forged', 'the-real-client-state');
    const before = receiver.accepted.length;
    const response = await fetch(receiver.httpUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        value: [
          {
            subscriptionId: 'sub-forged',
            clientState: 'guessed-client-state',
            changeType: 'updated',
            resource: 'me/drive/root',
          },
        ],
      }),
    });
    expect(response.status).toBe(401);
    expect(receiver.stats().rejected).toBe(1);
    expect(receiver.accepted.length).toBe(before);
    // Unknown subscription ids are not ours, whatever clientState they carry.
    expect(parseNotifications({ value: [{ subscriptionId: 'unknown', clientState: 'x' }] }, () => undefined)).toEqual({
      accepted: [],
      rejected: 1,
    });
  });

  test('the validation reply echoes the URL-decoded token as text/plain', () => {
    const query = new URL(
      'https://hooks.example/ms?validationToken=Validation%3A%20Testing%20client%20application%20reachability',
    ).searchParams;
    expect(validationReply(query)).toEqual({
      status: 200,
      contentType: 'text/plain; charset=utf-8',
      body: 'Validation: Testing client application reachability',
    });
    expect(validationReply(new URLSearchParams())).toBeUndefined();
  });

  test('T21 [microsoft365]: Graph refuses an http notification URL, loopback too, before any validation request', async () => {
    const { tokens } = await harness.connect('microsoft365');
    const ctx = harness.context('microsoft365', tokens);
    const validations = receiver.stats().validations;
    const subscriptions = harness.emulator.control.graph.subscriptions.size;
    const failure = await failureOf(
      harness.connector.registerWebhooks(ctx, { callbackUrl: receiver.httpUrl, clientState: 'cs' }),
    );
    expect(failure.type).toBe('VendorRejected');
    expect(failure.message).toBe('microsoft: rejected (400): InvalidRequest');
    expect(receiver.stats().validations).toBe(validations);
    expect(harness.emulator.control.graph.subscriptions.size).toBe(subscriptions);
  });

  test('subscription creation fails when the endpoint does not pass validation', async () => {
    const silent = await startReceiver(harness.emulator, { echoValidation: false });
    try {
      const { tokens } = await harness.connect('microsoft365');
      const failure = await failureOf(
        harness.connector.registerWebhooks(harness.context('microsoft365', tokens), {
          callbackUrl: silent.url,
          clientState: 'cs',
        }),
      );
      expect(failure.type).toBe('VendorRejected');
      expect(silent.stats().validations).toBe(1);
    } finally {
      await silent.stop();
    }
  });

  test('T18 [sharepoint]: SharePoint subscribes per selected site only, within the driveItem maximum lifetime', async () => {
    const { control } = harness.emulator;
    control.seedSite('site-a', 'A');
    control.seedSite('site-b', 'B');
    for (const site of ['site-a', 'site-b']) expect(await grantSiteToApp(harness.emulator, site)).toBe(201);
    const { tokens: sharepointTokens } = await harness.connect('sharepoint');
    const sharepoint = await harness.connector.registerWebhooks(
      harness.context('sharepoint', sharepointTokens, { sites: ['site-a'] }),
      { callbackUrl: receiver.url, clientState: 'cs' },
    );
    expect(sharepoint.map((subscription) => subscription.resource)).toEqual(['sites/site-a/drive/root']);
    expect(sharepoint[0]!.expiresAt! - control.now()).toBeLessThanOrEqual(MAX_SUBSCRIPTION_MINUTES.driveItem * 60_000);
  });
});
