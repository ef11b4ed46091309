/**
 * A worker PROCESS for the worker-kill test: the real workflow bundle and activities on the dev
 * server, with a memory vendor seeded deterministically (so every process sees the same vendor)
 * and slow pages. Prints "ready" once polling. Run: node --import tsx killableWorker.ts
 * Config by env: TP_TEST_STACK (inherited), KILL_TASK_QUEUE, KILL_RECORDS, KILL_PAGE_DELAY_MS, KILL_KEK (base64).
 */
import { NativeConnection } from '@temporalio/worker';
import { testWorker, installQuietRuntime } from '../../support/temporal';
import { testStack } from '../../support/stackInfo';
import { createHarness } from './harness';
import { MemoryConnector } from '../../../dev/memoryConnector';

export const recordId = (i: number) => `rec-${String(i).padStart(6, '0')}`;

async function main(): Promise<void> {
  const records = Number(process.env.KILL_RECORDS);
  const connector = new MemoryConnector();
  for (let i = 0; i < records; i++) connector.upsert(recordId(i), `title ${i}`);
  connector.pageDelayMs = Number(process.env.KILL_PAGE_DELAY_MS ?? 0);
  const h = createHarness(connector, Buffer.from(process.env.KILL_KEK!, 'base64'));
  installQuietRuntime();
  const connection = await NativeConnection.connect({ address: testStack().temporalAddress });
  const worker = await testWorker({
    connection,
    taskQueue: process.env.KILL_TASK_QUEUE!,
    activities: h.activities,
    identity: `killable-${process.pid}`,
  });
  process.once('SIGTERM', () => worker.shutdown());
  process.stdout.write('ready\n');
  await worker.run();
  await connection.close();
  await h.close();
}

if (require.main === module) {
  main().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
