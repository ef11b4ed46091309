/**
 * The worker's probe endpoint: `GET /healthz` (the process answers) and `GET /readyz` (the worker
 * runs, its pollers poll, and the Temporal frontend answers), as JSON for orchestrator probes.
 * Plain `node:http`: the worker has no web framework and needs none for two routes.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NativeConnection, Worker } from '@temporalio/worker';

const TEMPORAL_CHECK_TIMEOUT_MS = 3_000;

export interface WorkerHealthReport {
  status: 'ready' | 'not-ready';
  /** The SDK's run state: INITIALIZED, RUNNING, STOPPING, DRAINING, DRAINED, STOPPED, FAILED. */
  state: string;
  polling: { workflow: string; activity: string };
  temporal: 'connected' | 'unreachable';
}

export async function workerHealth(worker: Pick<Worker, 'getStatus'>, connection: NativeConnection) {
  const status = worker.getStatus();
  const temporal = await connection.workflowService
    .getSystemInfo({})
    .then(() => 'connected' as const)
    .catch(() => 'unreachable' as const);
  const polling = { workflow: status.workflowPollerState, activity: status.activityPollerState };
  // A worker without activities never starts its activity poller: only a failed one counts against it.
  const ready =
    status.runState === 'RUNNING' &&
    polling.workflow === 'POLLING' &&
    polling.activity !== 'FAILED' &&
    temporal === 'connected';
  return {
    status: ready ? 'ready' : 'not-ready',
    state: status.runState,
    polling,
    temporal,
  } satisfies WorkerHealthReport;
}

export async function startWorkerHealthServer(options: {
  host: string;
  port: number;
  report(): Promise<WorkerHealthReport>;
}): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    const send = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
      response.end(JSON.stringify(body));
    };
    if (request.method !== 'GET') return send(405, { status: 'method-not-allowed' });
    if (request.url === '/healthz') return send(200, { status: 'ok' });
    if (request.url !== '/readyz') return send(404, { status: 'not-found' });
    const timeout = new Promise<WorkerHealthReport>((resolve) =>
      setTimeout(
        () =>
          resolve({
            status: 'not-ready',
            state: 'UNKNOWN',
            polling: { workflow: '', activity: '' },
            temporal: 'unreachable',
          }),
        TEMPORAL_CHECK_TIMEOUT_MS,
      ).unref(),
    );
    Promise.race([options.report(), timeout]).then(
      (report) => send(report.status === 'ready' ? 200 : 503, report),
      () => send(503, { status: 'not-ready' }),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, resolve);
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
