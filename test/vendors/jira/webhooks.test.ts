/**
 * T21: Jira dynamic-webhook deliveries from the emulator (JWT signed with the app's client secret,
 * `qsh` over the registered URL) checked by `verifyJiraWebhook` in a receiver: valid accepted once,
 * forged / expired / foreign-issuer JWTs rejected, a replayed JWT rejected whatever its identifier,
 * a JWT for another URL rejected; `jira:issue_deleted` reaches only matching webhooks.
 */
import { jiraCallbackUrl, jiraWebhookDeletions, verifyJiraWebhook } from '../../../activities/vendors/jira';
import { createInMemoryReplayGuard } from '../../../activities/vendors/shared';
import { EmulatorRouter, startEmulatorServer, type StartedServer } from '../../../emulators/shared';
import { CLIENT_ID, CLIENT_SECRET, startJiraHarness, type JiraHarness } from './harness';

/** The receiving endpoint's own secret: the URL token of its registration is derived from it. */
const ENDPOINT_SECRET = 'endpoint-secret-for-the-jira-vendor-test';

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
      endpointSecret: ENDPOINT_SECRET,
      request: {
        method: request.method,
        url: `${request.path}${request.query.size > 0 ? `?${request.query.toString()}` : ''}`,
        headers: request.headers,
        rawBody: request.rawBody,
      },
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

test('T21 [jira]: a signed delivery is accepted once; forged, expired, foreign-issuer, replayed and misdirected deliveries are rejected', async () => {
  const url = jiraCallbackUrl(`${receiver.url}/webhooks/jira`, ENDPOINT_SECRET);
  const payload = {
    timestamp: Date.now(),
    webhookEvent: 'jira:issue_updated',
    issue: { id: '10001', key: 'SITE-1' },
    matchedWebhookIds: [1],
  };
  const { control } = harness.emulator;
  // A JWT's claims change by the second: one delivery a second, as distinct deliveries are.
  const send = (target: string, input: Omit<Parameters<typeof control.sendWebhook>[1], 'payload'> = {}) => {
    control.clock.advance(1000);
    return control.sendWebhook(target, { payload, ...input });
  };
  const resend = (target: string, headers: Record<string, string>) => {
    const captured = control.lastDelivery()!;
    return fetch(target, { method: 'POST', body: captured.body, headers: { ...captured.headers, ...headers } });
  };
  expect(await send(url, { identifier: 'delivery-1' })).toBe(202);
  // The same JWT under a new identifier: the identifier is not signed, the JWT is.
  expect((await resend(url, { 'x-atlassian-webhook-identifier': 'delivery-1b' })).status).toBe(401);
  expect(await send(url, { identifier: 'delivery-2', secret: 'attacker-secret' })).toBe(401);
  expect(await send(url, { identifier: 'delivery-3', expiresInSeconds: -3600 })).toBe(401);
  expect(await send(url, { identifier: 'delivery-4', issuer: 'another-app' })).toBe(401);
  // A forged delivery must not burn the key of a later genuine one.
  expect(await send(url, { identifier: 'delivery-2' })).toBe(202);
  // Another endpoint's URL token is refused; a JWT signed for another URL fails here: its qsh is not this request's.
  expect(await send(`${receiver.url}/webhooks/jira?token=another-endpoint`, { qsh: false })).toBe(401);
  expect(await send(`${url}&another=endpoint`)).toBe(202);
  expect((await resend(url, {})).status).toBe(401);
  // Without qsh, the URL token is what binds the JWT to the endpoint.
  expect(await send(url, { qsh: false })).toBe(202);
  expect(await send(`${receiver.url}/webhooks/jira`, { qsh: false })).toBe(401);
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
    'wrong-endpoint',
    'ok:jira:issue_updated',
    'wrong-endpoint',
    'ok:jira:issue_updated',
    'wrong-endpoint',
    'missing-headers',
  ]);
});

test('T11 T18 [jira]: deleting an issue delivers a signed jira:issue_deleted to the registered webhook only for allow-listed projects', async () => {
  const { control } = harness.emulator;
  const ctx = harness.context(await harness.connect(), { projects: ['SITE'] });
  await harness.connector.registerWebhooks(ctx, {
    callbackUrl: `${receiver.url}/webhooks/jira`,
    clientState: ENDPOINT_SECRET,
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
    clientState: ENDPOINT_SECRET,
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
