import { readinessChecks } from '../../api/readiness';
import { buildServer } from '../../api/server';
import { createRuntimeDb } from '../../db/knex';
import { createLogger } from '../../lib/logger';
import { runtimeDb } from '../support/db';
import { devServer, testWorker, uniqueTaskQueue } from '../support/temporal';

const logger = createLogger({ level: 'silent', name: 'test' });

describe('health endpoints', () => {
  it('/healthz answers while dependencies are down; /readyz names what is missing', async () => {
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

      const noWorker = await app.inject('/readyz');
      expect(noWorker.statusCode).toBe(503);
      expect(noWorker.json().missing).toEqual(['worker']);

      const worker = await testWorker({ connection: server.connection, taskQueue, activities: {} });
      await worker.runUntil(async () => {
        // The server records a poller once the worker's first poll arrives.
        for (let i = 0; i < 50; i++) {
          const ready = await app.inject('/readyz');
          if (ready.statusCode === 200) return expect(ready.json().status).toBe('ready');
          await new Promise((r) => setTimeout(r, 100));
        }
        throw new Error('worker never became visible to /readyz');
      });

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
      expect(down.json().missing).toEqual(['postgres', 'worker']);
      expect(down.headers['x-request-id']).toBeTruthy();
      await Promise.all([app.close(), broken.close()]);
    } finally {
      await Promise.all([db.destroy(), deadDb.destroy(), server.close()]);
    }
  });
});
