import { proxyActivities, sleep } from '@temporalio/workflow';

const { recordWake } = proxyActivities<{ recordWake(label: string): Promise<void> }>({
  startToCloseTimeout: '10 seconds',
});

/** Sleeps on a durable timer, then calls an activity: proves time skipping end to end. */
export async function sleepThenWakeWorkflow(label: string, sleepMs: number): Promise<number> {
  const started = Date.now(); // workflow clock: deterministic, advanced by the server's skipped time
  await sleep(sleepMs);
  await recordWake(label);
  return Date.now() - started;
}
