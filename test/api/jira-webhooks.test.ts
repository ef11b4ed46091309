/**
 * T21 for Jira: OAuth-app deliveries carry a JWT signed with our app's client secret; the
 * per-endpoint URL binds them to the workspace. Valid → recorded once and the lifecycle is woken
 * (a deletion asks for a reconciling round); forged, expired or foreign → 401, nothing changes.
 */
import crypto from 'node:crypto';
import { SignJWT } from 'jose';
import { workflowIds } from '../../workflows/definitions';
import { receivedQuery } from './support/contractWorkflows';
import { createHarness, JIRA_APP, seedWebhookEndpoint, type Harness } from './support/harness';

describe('T21 [jira]: Jira webhook receiver', () => {
  let h: Harness;
  const ws = crypto.randomUUID();
  let integrationId = '';
  let endpointId = '';

  beforeAll(async () => {
    h = await createHarness();
    // Jira signs with our app's client secret; the endpoint's own secret goes unused.
    ({ integrationId, endpointId } = await seedWebhookEndpoint(h, ws, 'jira'));
  });
  afterAll(async () => {
    await h.services.temporal.client.workflow
      .getHandle(workflowIds.lifecycle(ws, integrationId))
      .terminate('cleanup')
      .catch(() => undefined);
    await h.close();
  });

  const jwt = (options: { secret?: string; issuer?: string; expiresIn?: string } = {}) =>
    new SignJWT({})
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(options.issuer ?? JIRA_APP.clientId)
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '5m')
      .sign(new TextEncoder().encode(options.secret ?? JIRA_APP.clientSecret));

  const deliver = async (event: string, token: string, deliveryId = crypto.randomUUID(), workspaceId = ws) =>
    h.app.inject({
      method: 'POST',
      url: `/v1/webhooks/jira/${workspaceId}/${endpointId}`,
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${token}`,
        'x-atlassian-webhook-identifier': deliveryId,
      },
      payload: JSON.stringify({ webhookEvent: event, issue: { id: '10042', key: 'SITE-42' }, matchedWebhookIds: [1] }),
    });

  it('T21: a signed delivery is recorded once and wakes the lifecycle; a deletion asks for a reconciling round', async () => {
    await h.withWorker(async () => {
      const deliveryId = crypto.randomUUID();
      expect((await deliver('jira:issue_updated', await jwt(), deliveryId)).json()).toEqual({
        received: 1,
        duplicates: 0,
      });
      expect((await deliver('jira:issue_updated', await jwt(), deliveryId)).json()).toEqual({
        received: 0,
        duplicates: 1,
      });
      expect((await deliver('jira:issue_deleted', await jwt())).statusCode).toBe(202);
      const log = await h.services.temporal.client.workflow
        .getHandle(workflowIds.lifecycle(ws, integrationId))
        .query(receivedQuery);
      expect(log.filter((e) => e.name === 'syncRequested').map((e) => e.arg)).toEqual([
        { reason: 'webhook' },
        { reason: 'webhook', resource: 'issues', full: true },
      ]);
    });
  });

  it('T21: forged, expired, wrong-issuer and foreign-workspace deliveries are 401 and change nothing', async () => {
    const before = await h.su('webhook_deliveries').where({ endpoint_id: endpointId }).count('* as n').first();
    const responses = [
      await deliver('jira:issue_updated', await jwt({ secret: 'not-our-client-secret-0123456789abcdef' })),
      await deliver('jira:issue_updated', await jwt({ expiresIn: '-1m' })),
      await deliver('jira:issue_updated', await jwt({ issuer: 'someone-else' })),
      await deliver('jira:issue_updated', await jwt(), crypto.randomUUID(), crypto.randomUUID()),
    ];
    expect(responses.map((r) => r.statusCode)).toEqual([401, 401, 401, 401]);
    const after = await h.su('webhook_deliveries').where({ endpoint_id: endpointId }).count('* as n').first();
    expect(after).toEqual(before);
  });
});
