/**
 * The API's metrics (T25): requests by route template and status, webhook deliveries verified and
 * refused by vendor, served for Prometheus on their own listener (`METRICS_API_ADDRESS`), with no
 * workspace or integration id in any label.
 */
import crypto from 'node:crypto';
import type http from 'node:http';
import net from 'node:net';
import { hmacSha256Hex } from '../../activities/vendors/shared/signatures';
import { createApiMetrics, serveMetrics } from '../../api/metrics';
import { bearer, createHarness, seedWebhookEndpoint, type Harness } from './support/harness';

async function freeAddress(): Promise<string> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return `127.0.0.1:${port}`;
}

describe('API metrics (real Postgres + Temporal dev server)', () => {
  let h: Harness;
  let server: http.Server;
  let address: string;
  const metrics = createApiMetrics();
  const ws = crypto.randomUUID();

  beforeAll(async () => {
    h = await createHarness({ metrics });
    address = await freeAddress();
    server = await serveMetrics(address, metrics.registry);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await h.close();
  });

  it('T25 metrics: the API counts requests by route template and webhook deliveries verified and refused, on its own port, with no ids in labels', async () => {
    const endpoint = await seedWebhookEndpoint(h, ws, 'github');
    const deliver = (secret: string) => {
      const body = JSON.stringify({ action: 'opened', issue: { number: 1 } });
      return h.app.inject({
        method: 'POST',
        url: endpoint.url,
        headers: {
          'content-type': 'application/json',
          'x-github-event': 'issues',
          'x-github-delivery': crypto.randomUUID(),
          'x-hub-signature-256': `sha256=${hmacSha256Hex(secret, body)}`,
        },
        payload: body,
      });
    };
    try {
      await h.withWorker(async () => {
        expect((await deliver(endpoint.secret)).statusCode).toBe(202);
        expect((await deliver('a-forger-guess')).statusCode).toBe(401);
      });
      const token = await h.token({ workspaceId: ws, role: 'admin' });
      expect(
        (
          await h.app.inject({
            url: `/v1/workspaces/${ws}/integrations/${endpoint.integrationId}`,
            headers: bearer(token),
          })
        ).statusCode,
      ).toBe(200);

      const response = await fetch(`http://${address}/metrics`);
      expect(response.status).toBe(200);
      const text = await response.text();
      expect(text).toContain('integrations_webhook_deliveries_total{vendor="github",result="verified"} 1');
      expect(text).toContain('integrations_webhook_deliveries_total{vendor="github",result="refused"} 1');
      expect(text).toMatch(
        /integrations_api_request_duration_seconds_count\{method="POST",route="\/v1\/webhooks\/:vendor\/:workspaceId\/:endpointId",status="202"\} 1/,
      );
      expect(text).toMatch(
        /integrations_api_request_duration_seconds_count\{method="GET",route="\/v1\/workspaces\/:workspaceId\/integrations\/:integrationId",status="200"\} 1/,
      );
      expect(text).not.toContain(ws);
      expect(text).not.toContain(endpoint.integrationId);
      expect(text).not.toContain(endpoint.endpointId);
      // Only /metrics is served there; the public API does not serve it at all.
      expect((await fetch(`http://${address}/other`)).status).toBe(404);
      expect((await h.app.inject({ url: '/metrics' })).statusCode).toBe(404);
    } finally {
      await h.services.temporal.client.workflow
        .getHandle(endpoint.lifecycleId)
        .terminate('test cleanup')
        .catch(() => undefined);
    }
  });
});
