/**
 * Drive push notifications through the receiver's verifier (T21): the channel token is the proof,
 * a stale channel is refused, the opening `sync` message is a handshake, and the emulator's real
 * deliveries verify.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { driveChannelVerifier } from '../../../activities/vendors/google';
import type { WebhookRequest } from '../../../activities/vendors/types';
import { startGoogleHarness, type GoogleHarness } from './harness';

const SECRET = 'c2VjcmV0LXRva2VuLW9mLXRoZS1lbmRwb2ludC0xMjM0NQ';

function message(headers: Record<string, string>): WebhookRequest {
  return {
    method: 'POST',
    url: '/v1/webhooks/google-drive/w/e',
    headers: {
      'x-goog-channel-id': 'a1b2c3d4-0000-4000-8000-000000000001',
      'x-goog-channel-token': SECRET,
      'x-goog-channel-expiration': new Date(Date.now() + 3_600_000).toUTCString(),
      'x-goog-resource-id': 'changes-1',
      'x-goog-resource-state': 'change',
      'x-goog-message-number': '7',
      ...headers,
    },
    rawBody: Buffer.alloc(0),
    query: {},
  };
}

describe('Drive push notifications', () => {
  test('T21 [google-drive]: a change message with our channel token asks for a sync, deduplicated per channel message', async () => {
    const [delivery] = (await driveChannelVerifier.verify(message({}), SECRET))!;
    expect(delivery).toMatchObject({ eventType: 'drive.change' });
    const [again] = (await driveChannelVerifier.verify(message({}), SECRET))!;
    expect(again!.deliveryId).toBe(delivery!.deliveryId);
    const [next] = (await driveChannelVerifier.verify(message({ 'x-goog-message-number': '8' }), SECRET))!;
    expect(next!.deliveryId).not.toBe(delivery!.deliveryId);
  });

  test.each([
    ['a wrong token', { 'x-goog-channel-token': `${SECRET.slice(0, -1)}x` }],
    ['no token', { 'x-goog-channel-token': '' }],
    ['an expired channel (stale)', { 'x-goog-channel-expiration': new Date(Date.now() - 1000).toUTCString() }],
    ['an unreadable expiration', { 'x-goog-channel-expiration': 'soon' }],
    ['no message number', { 'x-goog-message-number': '' }],
    ['an unknown resource state', { 'x-goog-resource-state': 'exists' }],
  ])('T21 [google-drive]: a message with %s is refused', async (_label, headers) => {
    expect(await driveChannelVerifier.verify(message(headers), SECRET)).toBeUndefined();
  });

  test('T21 [google-drive]: the opening sync message is acknowledged only with our token, and asks for nothing', async () => {
    const sync = message({ 'x-goog-resource-state': 'sync', 'x-goog-message-number': '1' });
    expect(await driveChannelVerifier.challenge!(sync, SECRET)).toEqual({ contentType: 'text/plain', body: '' });
    expect(await driveChannelVerifier.challenge!(sync, 'another-secret')).toBe('unauthenticated');
    expect(await driveChannelVerifier.verify(sync, SECRET)).toBeUndefined();
    expect(await driveChannelVerifier.challenge!(message({}), SECRET)).toBeUndefined();
  });
});

describe('Drive push notifications from the emulator', () => {
  let harness: GoogleHarness;
  let server: http.Server;
  const received: WebhookRequest[] = [];
  beforeAll(async () => {
    harness = await startGoogleHarness();
    server = http.createServer((req, res) => {
      received.push({ method: req.method!, url: req.url!, headers: req.headers, rawBody: Buffer.alloc(0), query: {} });
      res.writeHead(200).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await harness.stop();
    await new Promise((resolve) => server.close(resolve));
  });

  test('T21 [google-drive]: the channel opens with a sync message, then each change to a visible file is one change message, all verifiable', async () => {
    const { control } = harness.emulator;
    const { tokens } = await harness.connect('google-drive');
    const picked = control.addFile({ name: 'picked.pdf' });
    const other = control.addFile({ name: 'other.pdf' });
    control.pick([picked]);
    const ctx = harness.context('google-drive', tokens, { files: [picked] });
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/webhooks/google-drive/w/e`;
    await harness.connector.registerWebhooks(ctx, { callbackUrl: url, clientState: SECRET });
    control.renameFile(picked, 'picked v2.pdf');
    control.renameFile(other, 'other v2.pdf');
    expect((await control.deliveries()).map((d) => `${d.state} ${d.status}`)).toEqual(['sync 200', 'change 200']);
    expect(received.map((r) => r.headers['x-goog-resource-state'])).toEqual(['sync', 'change']);
    expect(await driveChannelVerifier.challenge!(received[0]!, SECRET)).toEqual({
      contentType: 'text/plain',
      body: '',
    });
    expect(await driveChannelVerifier.verify(received[1]!, SECRET)).toHaveLength(1);
    expect(await driveChannelVerifier.verify(received[1]!, 'the-secret-of-another-endpoint')).toBeUndefined();
  });
});
