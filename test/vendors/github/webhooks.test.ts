/**
 * T21: GitHub webhook deliveries from the emulator (real HMAC scheme, published payloads) checked by
 * `verifyGithubWebhook` in a receiver: valid accepted once, forged rejected, a replayed body rejected
 * whatever its delivery id.
 */
import { verifyGithubWebhook } from '../../../activities/vendors/github';
import { createInMemoryReplayGuard } from '../../../activities/vendors/shared';
import { EmulatorRouter, startEmulatorServer, type StartedServer } from '../../../emulators/shared';
import { webhookExample } from '../../../emulators/github';
import { WEBHOOK_SECRET, startGithubHarness, type GithubHarness } from './harness';

let harness: GithubHarness;
let receiver: StartedServer;
const outcomes: string[] = [];

beforeAll(async () => {
  harness = await startGithubHarness();
  const replayGuard = createInMemoryReplayGuard();
  const router = new EmulatorRouter().on('POST', '/webhooks/github', async (request) => {
    const result = await verifyGithubWebhook({
      secret: WEBHOOK_SECRET,
      rawBody: request.rawBody,
      headers: request.headers,
      replayGuard,
    });
    outcomes.push(result.ok ? `ok:${result.event}:${String(result.payload.action)}` : result.reason);
    return { status: result.ok ? 202 : 401 };
  });
  receiver = await startEmulatorServer({ router });
});

afterAll(async () => {
  await Promise.all([harness.emulator.stop(), receiver.stop()]);
});

test('T21 [github]: a signed delivery is accepted; a forged one, and its signed body replayed under any delivery id or event name, are rejected', async () => {
  const url = `${receiver.url}/webhooks/github`;
  const send = harness.emulator.control.sendWebhook;
  const payload = webhookExample('issues', 'opened');
  expect(await send(url, { event: 'issues', payload, deliveryId: 'delivery-1' })).toBe(202);
  expect(await send(url, { event: 'issues', payload, deliveryId: 'delivery-1' })).toBe(401);
  // Neither header is signed: a captured body and signature under new ones is the same delivery.
  expect(await send(url, { event: 'issues', payload, deliveryId: 'delivery-1-replayed' })).toBe(401);
  expect(await send(url, { event: 'installation', payload, deliveryId: 'delivery-1-as-uninstall' })).toBe(401);
  const edited = webhookExample('issues', 'edited');
  expect(await send(url, { event: 'issues', payload: edited, deliveryId: 'delivery-2', secret: 'attacker' })).toBe(401);
  // A forged delivery must not burn the key of a later genuine one.
  expect(await send(url, { event: 'issues', payload: edited, deliveryId: 'delivery-2' })).toBe(202);
  expect(outcomes).toEqual([
    'ok:issues:opened',
    'replayed',
    'replayed',
    'replayed',
    'bad-signature',
    'ok:issues:edited',
  ]);
});

test('T11: deleting an issue in the emulator delivers a signed issues.deleted the receiver accepts', async () => {
  const issue = harness.emulator.control.addIssue('acme/site-a', { title: 'to delete' });
  expect(
    await harness.emulator.control.deleteIssue('acme/site-a', Number(issue.number), `${receiver.url}/webhooks/github`),
  ).toBe(202);
  expect(outcomes.at(-1)).toBe('ok:issues:deleted');
});
