/**
 * Connect's compensation order (dev server, real Postgres, the memory vendor with subscriptions): a
 * connect that fails after its webhooks were registered must end them while the grant still works,
 * then revoke it. A vendor refuses to end a revoked grant's subscription (Google answers 401 to
 * `channels.stop`), so the reverse order leaves the subscription delivering at the vendor.
 */
import crypto from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Worker } from '@temporalio/worker';
import { MemoryConnector, memorySubscribingDescriptor } from '../../dev/memoryConnector';
import { CONNECT_UNSUBSCRIBE_BEFORE_REVOKE_PATCH } from '../../workflows/connect';
import { oauthCallbackUpdate, workflowIds } from '../../workflows/definitions';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';
import { createVendorHarness, type VendorHarness } from './support/harness';
import { ADMIN, seedWorkspace, startConnect } from './support/workflowHelpers';

describe('connect compensation after webhooks were registered (dev server, real Postgres)', () => {
  const connector = new MemoryConnector();
  let h: VendorHarness;
  let server: Awaited<ReturnType<typeof devServer>>;
  let client: Client;
  let worker: Worker;
  let taskQueue: string;

  beforeAll(async () => {
    h = createVendorHarness([{ descriptor: memorySubscribingDescriptor, connector }]);
    server = await devServer();
    client = server.client;
    taskQueue = uniqueTaskQueue('connect-compensation');
    worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
  });
  afterAll(async () => {
    await server.close();
    await h.close();
  });

  it('T4: the subscription is ended while the grant works, then the grant is revoked; nothing is left at the vendor or here', async () => {
    connector.subscriptionsOnRegister = [{ externalId: `channel-${crypto.randomUUID()}`, resource: 'issues' }];
    const [subscription] = connector.subscriptionsOnRegister;
    const workspaceId = await seedWorkspace(h);
    const integrationId = crypto.randomUUID();
    // The connect fails after registering webhooks: its lifecycle cannot start (the id is taken).
    const occupant = await client.workflow.start('sleepThenWakeWorkflow', {
      taskQueue,
      workflowId: workflowIds.lifecycle(workspaceId, integrationId),
      args: ['lifecycle id taken', 60 * 60_000],
    });
    try {
      await worker.runUntil(async () => {
        const { handle, state } = await startConnect(client, taskQueue, { workspaceId, integrationId });
        await handle.executeUpdate(oauthCallbackUpdate, { args: [{ state, code: 'c', consentedBy: ADMIN }] });
        expect(await handle.result()).toMatchObject({ status: 'failed' });

        expect(connector.grantCalls.slice(-2)).toEqual([`unsubscribe:${subscription!.externalId}`, 'revoke']);
        expect(connector.liveSubscriptions.has(subscription!.externalId)).toBe(false);
        expect(connector.revokedTokens).toContain(connector.nextTokens.accessToken);
        expect(await h.admin('vendor_subscriptions').where({ integration_id: integrationId })).toEqual([]);
        const endpoints = await h.admin('webhook_endpoints').where({ integration_id: integrationId });
        expect(endpoints.every((endpoint) => endpoint.disabled_at !== null)).toBe(true);
        const secrets = await h.admin('secrets').where({ integration_id: integrationId });
        expect(secrets.filter((s) => s.state !== 'destroyed' || s.ciphertext !== null)).toEqual([]);
        expect((await h.admin('integrations').where({ integration_id: integrationId }).first()).status).toBe('failed');
        // The new order is a patch: runs that compensated before it replay in their old order.
        const patches = (await handle.fetchHistory()).events!.flatMap((e) =>
          (e.markerRecordedEventAttributes?.details?.['patch-data']?.payloads ?? []).map(
            (p) => (JSON.parse(Buffer.from(p.data ?? []).toString('utf8')) as { id: string }).id,
          ),
        );
        expect(patches).toContain(CONNECT_UNSUBSCRIBE_BEFORE_REVOKE_PATCH);
      });
    } finally {
      connector.subscriptionsOnRegister = [];
      await occupant.terminate('test done');
    }
  }, 120_000);
});
