import { readinessChecks } from '../../api/readiness';
import { buildServer } from '../../api/server';
import { createRuntimeDb } from '../../db/knex';
import { createLogger } from '../../lib/logger';
import { runtimeDb } from '../support/db';
import { startWorkerHealthServer, workerHealth } from '../../workers/health';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';

/** The SDK reports its pollers a moment after run() starts. */
async function pollWorkerProbe(probe: (url: string) => Promise<{ status: number; body: unknown }>) {
  let last = await probe('/readyz');
  for (let i = 0; i < 50 && last.status !== 200; i++) {
    await new Promise((r) => setTimeout(r, 100));
    last = await probe('/readyz');
  }
  return last;
}

const logger = createLogger({ level: 'silent', name: 'test' });

describe('health endpoints', () => {
  it('/healthz answers while dependencies are down; /readyz names what is missing and stays ready without workers', async () => {
    const server = await devServer();
    const db = runtimeDb('api');
    const deadDb = createRuntimeDb('postgres://nobody:nothing@127.0.0.1:1/none', 'api');
    const taskQueue = uniqueTaskQueue('readyz');
    try {
      const app = await buildServer({
        logger,
        readiness: readinessChecks({ db, client: server.client, namespace: 'default', taskQueue }),
      });
      expect((await app.inject('/healthz')).json()).toEqual({ status: 'ok' });

      // Webhook receivers stay in service while workers are down: deliveries are persisted, then caught up.
      const noWorker = await app.inject('/readyz');
      expect(noWorker.statusCode).toBe(200);
      expect(noWorker.json()).toMatchObject({ status: 'ready', degraded: ['worker'] });

      const worker = await testWorker({ connection: server.connection, taskQueue, activities: {} });
      const probe = await startWorkerHealthServer({
        host: '127.0.0.1',
        port: 0,
        report: () => workerHealth(worker, server.connection),
      });
      const workerProbe = async (url: string) => {
        const response = await fetch(`http://127.0.0.1:${probe.port}${url}`);
        return { status: response.status, body: await response.json() };
      };
      try {
        // Not running yet: alive, not ready.
        expect(await workerProbe('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
        expect(await workerProbe('/readyz')).toMatchObject({ status: 503, body: { state: 'INITIALIZED' } });
        await worker.runUntil(async () => {
          expect(await pollWorkerProbe(workerProbe)).toEqual({
            status: 200,
            body: {
              status: 'ready',
              state: 'RUNNING',
              polling: { workflow: 'POLLING', activity: expect.any(String) },
              temporal: 'connected',
            },
          });
          // The server records a poller once the worker's first poll arrives.
          for (let i = 0; i < 50; i++) {
            const ready = await app.inject('/readyz');
            if (ready.json().degraded?.length === 0) return expect(ready.json().status).toBe('ready');
            await new Promise((r) => setTimeout(r, 100));
          }
          throw new Error('worker never became visible to /readyz');
        });
        expect(await workerProbe('/readyz')).toMatchObject({ status: 503, body: { state: 'STOPPED' } });
      } finally {
        await probe.close();
      }

      const broken = await buildServer({
        logger,
        readiness: readinessChecks({
          db: deadDb,
          client: server.client,
          namespace: 'default',
          taskQueue: uniqueTaskQueue('none'),
        }),
      });
      const down = await broken.inject('/readyz');
      expect(down.statusCode).toBe(503);
      expect(down.json().missing).toEqual(['postgres']);
      expect(down.headers['x-request-id']).toBeTruthy();
      await Promise.all([app.close(), broken.close()]);
    } finally {
      await Promise.all([db.destroy(), deadDb.destroy(), server.close()]);
    }
  });
});
