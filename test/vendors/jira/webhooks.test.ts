/**
 * T21: Jira dynamic-webhook deliveries from the emulator (JWT signed with the app's client secret)
 * checked by `verifyJiraWebhook` in a receiver: valid accepted once, forged / expired / foreign-issuer
 * JWTs rejected, replayed identifier rejected; `jira:issue_deleted` reaches only matching webhooks.
 */
import { jiraWebhookDeletions, verifyJiraWebhook } from '../../../activities/vendors/jira';
import { createInMemoryReplayGuard } from '../../../activities/vendors/shared';
import { EmulatorRouter, startEmulatorServer, type StartedServer } from '../../../emulators/shared';
import { CLIENT_ID, CLIENT_SECRET, startJiraHarness, type JiraHarness } from './harness';

let harness: JiraHarness;
let receiver: StartedServer;
const outcomes: string[] = [];
const deletedIds: string[] = [];

beforeAll(async () => {
  harness = await startJiraHarness();
  const replayGuard = createInMemoryReplayGuard();
  const router = new EmulatorRouter().on('POST', '/webhooks/jira', async (request) => {
    const result = await verifyJiraWebhook({
      clientSecret: CLIENT_SECRET,
      clientId: CLIENT_ID,
      rawBody: request.rawBody,
      headers: request.headers,
      replayGuard,
      now: harness.emulator.control.clock.now(),
    });
    outcomes.push(result.ok ? `ok:${result.event}` : result.reason);
    if (result.ok)
      deletedIds.push(
        ...jiraWebhookDeletions(result.event, result.payload).deletions.flatMap((deletion) => deletion.externalIds),
      );
    return { status: result.ok ? 202 : 401 };
  });
  receiver = await startEmulatorServer({ router });
});

afterAll(async () => {
  await Promise.all([harness.emulator.stop(), receiver.stop()]);
});

test('T21 [jira]: a signed delivery is accepted once; forged, expired, foreign-issuer and replayed deliveries are rejected', async () => {
  const url = `${receiver.url}/webhooks/jira`;
  const payload = {
    timestamp: Date.now(),
    webhookEvent: 'jira:issue_updated',
    issue: { id: '10001', key: 'SITE-1' },
    matchedWebhookIds: [1],
  };
  const send = harness.emulator.control.sendWebhook;
  expect(await send(url, { payload, identifier: 'delivery-1' })).toBe(202);
  expect(await send(url, { payload, identifier: 'delivery-1' })).toBe(401);
  expect(await send(url, { payload, identifier: 'delivery-2', secret: 'attacker-secret' })).toBe(401);
  expect(await send(url, { payload, identifier: 'delivery-3', expiresInSeconds: -3600 })).toBe(401);
  expect(await send(url, { payload, identifier: 'delivery-4', issuer: 'another-app' })).toBe(401);
  // A forged delivery must not burn the identifier of a later genuine one.
  expect(await send(url, { payload, identifier: 'delivery-2' })).toBe(202);
  const unsigned = await fetch(url, {
    method: 'POST',
    body: JSON.stringify(payload),
    headers: { 'content-type': 'application/json', 'x-atlassian-webhook-identifier': 'delivery-5' },
  });
  expect(unsigned.status).toBe(401);
  expect(outcomes).toEqual([
    'ok:jira:issue_updated',
    'replayed',
    'bad-token',
    'bad-token',
    'wrong-issuer',
    'ok:jira:issue_updated',
    'missing-headers',
  ]);
});

test('T11 T18 [jira]: deleting an issue delivers a signed jira:issue_deleted to the registered webhook only for allow-listed projects', async () => {
  const { control } = harness.emulator;
  const ctx = harness.context(await harness.connect(), { projects: ['SITE'] });
  await harness.connector.registerWebhooks(ctx, {
    callbackUrl: `${receiver.url}/webhooks/jira`,
    clientState: 'unused',
  });
  const siteIssue = control.addIssue('SITE', 'Temporary works');
  const hrIssue = control.addIssue('HR', 'Confidential');
  expect(await control.deleteIssue(siteIssue.key)).toEqual([202]);
  expect(await control.deleteIssue(hrIssue.key)).toEqual([]);
  expect(outcomes.at(-1)).toBe('ok:jira:issue_deleted');
  expect(deletedIds).toEqual([siteIssue.id]);
});

test('T21 [jira]: a webhook not refreshed within 30 days expires and delivers nothing', async () => {
  const { control } = harness.emulator;
  const ctx = harness.context(await harness.connect(), { projects: ['OPS'] });
  await harness.connector.registerWebhooks(ctx, {
    callbackUrl: `${receiver.url}/webhooks/jira`,
    clientState: 'unused',
  });
  const issue = control.addIssue('OPS', 'Crane inspection');
  control.clock.advance(31 * 24 * 60 * 60_000);
  try {
    expect(control.webhooks().filter((webhook) => webhook.projects.includes('OPS'))).toEqual([]);
    expect(await control.deleteIssue(issue.key)).toEqual([]);
  } finally {
    control.clock.advance(-31 * 24 * 60 * 60_000);
  }
});
