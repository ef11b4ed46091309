/**
 * The worker's metrics (T25), as `workers/main.ts` installs them: Core's Prometheus endpoint serves
 * Temporal's own metrics and ours, which activities and workflows emit through the SDK meter.
 * Runs a sync with a 429 on the time-skipping server and reads the endpoint like Prometheus does.
 */
import net from 'node:net';
import { MEMORY_VENDOR } from '../../dev/memoryConnector';
import { createLogger } from '../../lib/logger';
import { installWorkerRuntime } from '../../lib/temporal/runtime';
import { integrationStateQuery, vendorLifecycleSignal, workflowIds } from '../../workflows/definitions';
import { CORE_METRICS_QUERIED, HISTOGRAM_SUFFIXES } from '../support/coreMetrics';
import { devServer, testWorker, timeSkippingEnv, uniqueTaskQueue } from '../support/temporal';
import { createHarness, seedConnectedIntegration, type Harness } from './support/harness';
import { pollUntil } from './support/workflowHelpers';

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Prometheus text format, the sample lines only. */
function parseSamples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line)!;
      const labels = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      return { name: match[1]!, labels, value: Number(match[3]) };
    });
}

const total = (samples: Sample[], name: string, labels: Record<string, string>): number =>
  samples
    .filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);

describe('worker metrics at the Prometheus endpoint (time-skipping server, real Postgres)', () => {
  let h: Harness;
  let address: string;
  beforeAll(async () => {
    // Before any connection: the process's one runtime, with the exporter `METRICS_WORKER_ADDRESS` configures.
    address = `127.0.0.1:${await freePort()}`;
    installWorkerRuntime({
      logger: createLogger({ level: 'error', name: 'metrics-test' }),
      logLevel: 'error',
      metricsAddress: address,
    });
    h = createHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  it('T25 metrics: a sync that commits records increments records synced, vendor calls by outcome and rate-limit waits, labelled by vendor and outcome only', async () => {
    for (let i = 0; i < 30; i++) h.connector.upsert(`issue-${i}`, `title ${i}`);
    h.connector.failures.push({ kind: 'rate-limit', retryAfterMs: 30_000 });
    const ref = await seedConnectedIntegration(h);
    const env = await timeSkippingEnv();
    const taskQueue = uniqueTaskQueue('metrics');
    const worker = await testWorker({ connection: env.nativeConnection, taskQueue, activities: h.activities });
    const scrape = async () => parseSamples(await (await fetch(`http://${address}/metrics`)).text());
    try {
      const before = await scrape();
      expect(total(before, 'integrations_records_synced', { vendor: MEMORY_VENDOR })).toBe(0);
      const result = await worker.runUntil(
        env.client.workflow.execute('syncWorkflow', {
          taskQueue,
          workflowId: workflowIds.sync(ref.workspaceId, ref.integrationId),
          args: [{ ...ref, vendor: MEMORY_VENDOR, request: { reason: 'admin' } }],
        }),
      );
      expect(result).toMatchObject({ state: 'completed', recordsUpserted: 30, rateLimitWaits: 1 });

      // Workflow metrics travel through a sink after the activation: poll until they are exported.
      const after = await pollUntil(scrape, (s) => total(s, 'integrations_rate_limit_waits', {}) > 0);
      expect(total(after, 'integrations_records_synced', { vendor: MEMORY_VENDOR, change: 'upserted' })).toBe(30);
      expect(total(after, 'integrations_rate_limit_waits', { vendor: MEMORY_VENDOR })).toBe(1);
      expect(
        total(after, 'integrations_vendor_calls', {
          vendor: MEMORY_VENDOR,
          outcome: 'failure',
          failure_type: 'RateLimited',
        }),
      ).toBe(1);
      expect(total(after, 'integrations_vendor_calls', { vendor: MEMORY_VENDOR, outcome: 'success' })).toBeGreaterThan(
        0,
      );
      expect(total(after, 'integrations_syncs', { vendor: MEMORY_VENDOR, outcome: 'completed' })).toBe(1);
      // Core's own metrics are on the same endpoint, under the names the dashboard and alerts query.
      const names = new Set(after.map((s) => s.name));
      const missing = CORE_METRICS_QUERIED.filter(
        (name) => !names.has(name) && !HISTOGRAM_SUFFIXES.some((suffix) => names.has(name + suffix)),
      );
      expect(missing).toEqual([]);
      expect(after.some((s) => s.name === 'temporal_workflow_task_schedule_to_start_latency_bucket')).toBe(true);
      // Cardinality and privacy: no label of ours carries a workspace or integration id.
      const ours = after.filter((s) => s.name.includes('integrations_'));
      const values = ours.flatMap((s) => Object.values(s.labels));
      expect(values).not.toContain(ref.workspaceId);
      expect(values).not.toContain(ref.integrationId);
    } finally {
      await env.teardown();
    }
  });
  it('T25 metrics: an integration losing its grant is counted once per loss, by vendor and cause, and its row records the loss', async () => {
    const ref = await seedConnectedIntegration(h);
    // The dev server: nothing here waits on time, and a lifecycle left to the time-skipping server
    // held its clock for the test files after this one.
    const server = await devServer();
    const taskQueue = uniqueTaskQueue('metrics-reauth');
    const worker = await testWorker({ connection: server.connection, taskQueue, activities: h.activities });
    const scrape = async () => parseSamples(await (await fetch(`http://${address}/metrics`)).text());
    const reauthorizations = (samples: Sample[]) =>
      total(samples, 'integrations_reauthorizations_required', { vendor: MEMORY_VENDOR, cause: 'vendor-event' });
    try {
      const before = reauthorizations(await scrape());
      await worker.runUntil(async () => {
        const handle = await server.client.workflow.start('integrationLifecycleWorkflow', {
          taskQueue,
          workflowId: workflowIds.lifecycle(ref.workspaceId, ref.integrationId),
          args: [{ ...ref, vendor: MEMORY_VENDOR }],
        });
        try {
          // The vendor says so twice (Graph repeats lifecycle notifications): one loss, one count.
          await handle.signal(vendorLifecycleSignal, { event: 'reauthorizationRequired' });
          await handle.signal(vendorLifecycleSignal, { event: 'reauthorizationRequired' });
          await pollUntil(
            () => handle.query(integrationStateQuery),
            (state) => state.status === 'reauthorization-required',
          );
          const after = await pollUntil(scrape, (samples) => reauthorizations(samples) > before);
          expect(reauthorizations(after) - before).toBe(1);
          // The row says so too, not only this run's state: the API and the webhook catch-up read the row.
          await pollUntil(
            () => h.admin('integrations').where({ integration_id: ref.integrationId }).first(),
            (row) => row?.status === 'reauthorization_required',
          );
        } finally {
          await handle.terminate('test over');
        }
      });
    } finally {
      await server.close();
    }
  });
});
