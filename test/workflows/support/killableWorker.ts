/**
 * A worker PROCESS for the worker-kill and worker-shutdown tests: the real workflow bundle and
 * activities on the dev server, with a memory vendor seeded deterministically (so every process sees
 * the same vendor), slow pages and slow data-out requests, and the production shutdown handling
 * (`workers/shutdown.ts`). Prints "ready" once polling and "received <title>" when a data-out
 * request reaches the vendor. Run: node --import tsx killableWorker.ts
 * Config by env: TP_TEST_STACK (inherited), KILL_TASK_QUEUE, KILL_RECORDS, KILL_PAGE_DELAY_MS,
 * KILL_ACTION_DELAY_MS, KILL_SHUTDOWN_GRACE_MS, KILL_KEK (base64).
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createLogger } from '../../../lib/logger';
import { shutdownOnSignals } from '../../../workers/shutdown';
import { testWorker } from '../../support/temporal';
import { testStack } from '../../support/stackInfo';
import { createHarness } from './harness';
import { MemoryConnector } from '../../../dev/memoryConnector';

export const recordId = (i: number) => `rec-${String(i).padStart(6, '0')}`;

async function main(): Promise<void> {
  const records = Number(process.env.KILL_RECORDS);
  const connector = new MemoryConnector();
  for (let i = 0; i < records; i++) connector.upsert(recordId(i), `title ${i}`);
  connector.pageDelayMs = Number(process.env.KILL_PAGE_DELAY_MS ?? 0);
  connector.actionDelayMs = Number(process.env.KILL_ACTION_DELAY_MS ?? 0);
  connector.onActionReceived = (title) => process.stdout.write(`received ${title}\n`);
  const graceMs = Number(process.env.KILL_SHUTDOWN_GRACE_MS ?? 10_000);
  const shutdown = new AbortController();
  const h = createHarness(connector, Buffer.from(process.env.KILL_KEK!, 'base64'), shutdown.signal);
  // As the production worker's runtime: its signal handlers are ours (`installWorkerRuntime`).
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  const connection = await NativeConnection.connect({ address: testStack().temporalAddress });
  const worker = await testWorker({
    connection,
    taskQueue: process.env.KILL_TASK_QUEUE!,
    activities: h.activities,
    identity: `killable-${process.pid}`,
    shutdownGraceMs: graceMs,
  });
  const logger = createLogger({ level: 'info', name: 'killable-worker' });
  shutdownOnSignals({ worker, logger, graceMs, controller: shutdown });
  process.stdout.write('ready\n');
  await worker.run();
  await connection.close();
  await h.close();
  process.stdout.write('stopped\n');
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
