/**
 * Traces (T25): one API request is one trace, from the request through the Temporal client call,
 * the workflow and its activity to the vendor call it caused. The real API (harness), the real
 * `vendorActionWorkflow`, activities and GitHub connector against its emulator, on the dev server;
 * spans gathered by an in-memory exporter registered as the processes register the OTLP one.
 */
import crypto from 'node:crypto';
import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { githubDescriptor } from '../../activities/vendors/github';
import { SpanAttr, startTracing, type Tracing } from '../../lib/tracing';
import { devServer, testWorker } from '../support/temporal';
import { startGithubHarness, type GithubHarness } from '../vendors/github/harness';
import { createVendorHarness, type VendorHarness } from '../workflows/support/harness';
import { pollUntil } from '../workflows/support/workflowHelpers';
import { bearer, createHarness, seedIntegration, type Harness } from './support/harness';

const ROUTE = '/v1/workspaces/:workspaceId/integrations/:integrationId/actions';

/** The span and its ancestors, nearest first, as far as `spans` holds them. */
function ancestry(span: ReadableSpan, spans: ReadableSpan[]): ReadableSpan[] {
  const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
  const chain = [span];
  for (let parent = byId.get(span.parentSpanId ?? ''); parent; parent = byId.get(parent.parentSpanId ?? '')) {
    chain.push(parent);
  }
  return chain;
}

describe('traces (T25): API request → Temporal → workflow → activity → vendor call', () => {
  const exporter = new InMemorySpanExporter();
  let tracing: Tracing;
  let h: Harness;
  let github: GithubHarness;
  let vendor: VendorHarness;

  beforeAll(async () => {
    tracing = startTracing({ serviceName: 'traces-test', spanProcessor: new SimpleSpanProcessor(exporter) })!;
    h = await createHarness();
    github = await startGithubHarness();
    vendor = createVendorHarness([{ descriptor: githubDescriptor, connector: github.connector }]);
  });
  afterAll(async () => {
    await vendor.close();
    await github.emulator.stop();
    await h.close();
    await tracing.shutdown();
  });

  it('T25 traces: one trace links an API request to the vendor call it caused, through the client start, the workflow and its activity; no content or person in any span', async () => {
    const ws = crypto.randomUUID();
    const integrationId = await seedIntegration(h.su, {
      workspaceId: ws,
      vendor: 'github',
      controls: { repos: ['acme/site-a'] },
    });
    const credential = await github.connect();
    await vendor.secrets.put({
      workspaceId: ws,
      integrationId,
      kind: 'oauth-tokens',
      state: 'current',
      plaintext: JSON.stringify(credential),
    });
    const title = `canary-${crypto.randomUUID()}`;
    const server = await devServer();
    try {
      const worker = await testWorker({
        connection: server.connection,
        taskQueue: h.taskQueue,
        activities: vendor.activities,
        tracing,
      });
      await worker.runUntil(async () => {
        const response = await h.app.inject({
          method: 'POST',
          url: `/v1/workspaces/${ws}/integrations/${integrationId}/actions`,
          headers: bearer(await h.token({ workspaceId: ws, role: 'service', sub: 'svc-traces' })),
          payload: { action: 'create-issue', input: { repository: 'acme/site-a', title } },
        });
        expect(response.statusCode).toBe(202);
        await h.services.temporal.client.workflow.getHandle(response.json().workflowId).result();
      });
    } finally {
      await server.close();
    }
    expect(github.emulator.control.issues('acme/site-a').map((i) => i.title)).toEqual([title]);

    // Workflow spans leave the sandbox through a sink after their activation: wait for the vendor call's ancestry.
    await pollUntil(
      async () => exporter.getFinishedSpans().map((s) => s.name),
      (names) => names.includes('vendor github create-issue') && names.includes(`POST ${ROUTE}`),
    );
    const spans = exporter.getFinishedSpans();
    const vendorCall = spans.find((s) => s.name === 'vendor github create-issue')!;
    const chain = ancestry(vendorCall, spans).reverse();
    expect(chain.map((s) => s.name)).toEqual([
      `POST ${ROUTE}`,
      'StartWorkflow:vendorActionWorkflow',
      'RunWorkflow:vendorActionWorkflow',
      expect.stringMatching(/^StartActivity:/),
      expect.stringMatching(/^RunActivity:/),
      'vendor github create-issue',
    ]);
    // One trace, rooted at the API request (a caller cannot continue its own trace into ours).
    const traceId = chain[0]!.spanContext().traceId;
    expect(chain.every((s) => s.spanContext().traceId === traceId)).toBe(true);
    expect(chain[0]!.parentSpanId).toBeUndefined();
    expect(chain[0]!.kind).toBe(SpanKind.SERVER);
    expect(chain[0]!.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': ROUTE,
      'http.response.status_code': 202,
      [SpanAttr.workspaceId]: ws,
      [SpanAttr.integrationId]: integrationId,
    });
    expect(vendorCall.kind).toBe(SpanKind.CLIENT);
    expect(vendorCall.attributes).toEqual({
      [SpanAttr.vendor]: 'github',
      [SpanAttr.action]: 'create-issue',
      [SpanAttr.scope]: 'issues:write',
      [SpanAttr.workspaceId]: ws,
      [SpanAttr.integrationId]: integrationId,
      [SpanAttr.outcome]: 'success',
    });
    // The trace's spans carry ids, names and outcomes: not the action's content, the caller or a token.
    const traced = JSON.stringify(
      spans.filter((s) => s.spanContext().traceId === traceId).map((s) => [s.name, s.attributes, s.events]),
    );
    expect(traced).not.toContain(title);
    expect(traced).not.toContain('svc-traces');
    expect(traced).not.toContain(credential.accessToken);
  });
});
