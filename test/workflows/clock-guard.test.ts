/**
 * The guard every shared time-skipping environment runs at its teardown (`assertClockSkips`): it
 * passes while the clock is free and fails while something holds it, as an outstanding workflow or
 * activity task does. Proven on a server of its own, so the lock it takes cannot leak to other files.
 */
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { assertClockSkips, CLOCK_PROBE, ownTimeSkippingEnv } from '../support/temporal';

describe('time-skipping clock guard', () => {
  let env: TestWorkflowEnvironment;
  beforeAll(async () => {
    env = await ownTimeSkippingEnv();
  });
  afterAll(async () => {
    await env.teardown();
  });

  it('passes on a free clock, fails while a task holds it, and passes again once it is released', async () => {
    const before = await env.currentTimeMs();
    await assertClockSkips(env);
    expect((await env.currentTimeMs()) - before).toBeGreaterThanOrEqual(CLOCK_PROBE.skipMs);

    // What an outstanding task does on the server: one more lock on time skipping.
    await env.connection.testService!.lockTimeSkipping({});
    const startedAt = Date.now();
    await expect(assertClockSkips(env)).rejects.toThrow(/clock is held/);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(CLOCK_PROBE.withinMs - 100);

    await env.connection.testService!.unlockTimeSkipping({});
    await assertClockSkips(env);
  }, 60_000);
});
