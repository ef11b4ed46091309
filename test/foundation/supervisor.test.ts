/**
 * `npm start` supervision (issue #18 item 8): a child that exits is restarted with bounded
 * exponential backoff, reset after a stable run, a crash loop is reported, the other children
 * stay up, and stop ends everything with no restart left pending. Real child processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { restartDelayMs, supervise, type Supervised } from '../../dev/supervisor';

const node = (script: string) => spawn(process.execPath, ['-e', script], { stdio: 'ignore' });
const LONG_RUNNING = 'setInterval(() => {}, 1000)';

function stopChild(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

const until = async (done: () => boolean, timeoutMs = 20_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error('condition not reached');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
};

describe('process supervisor (npm start)', () => {
  const running: Supervised[] = [];
  afterEach(async () => {
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });

  it('backoff doubles from the initial delay and stays bounded', () => {
    const policy = { initialMs: 1_000, maxMs: 30_000 };
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => restartDelayMs(n, policy))).toEqual([
      1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
  });

  it('a child killed natively (SIGABRT) is restarted with growing delays, reported as a crash loop, while the other child stays up', async () => {
    const lines: string[] = [];
    const spawnedAt: number[] = [];
    const exits: Array<number | string | null> = [];
    const api = supervise({ name: 'api', spawn: () => node(LONG_RUNNING), stopChild, log: (l) => lines.push(l) });
    running.push(api);
    const apiPid = api.child!.pid;
    const worker = supervise({
      name: 'worker',
      spawn: () => {
        spawnedAt.push(Date.now());
        // Like the worker's native abort: killed by a signal shortly after start.
        return node("setTimeout(() => process.kill(process.pid, 'SIGABRT'), 30)");
      },
      stopChild,
      log: (l) => lines.push(l),
      onExit: (code) => exits.push(code),
      backoff: { initialMs: 100, maxMs: 400, stableMs: 60_000, crashLoopAfter: 3 },
    });
    running.push(worker);

    await until(() => spawnedAt.length >= 5);
    expect(exits.slice(0, 4)).toEqual(['SIGABRT', 'SIGABRT', 'SIGABRT', 'SIGABRT']);
    const gaps = spawnedAt.slice(1, 5).map((t, i) => t - spawnedAt[i]);
    [100, 200, 400, 400].forEach((delay, i) => expect(gaps[i]).toBeGreaterThanOrEqual(delay));
    const workerLines = lines.filter((l) => l.startsWith('worker'));
    expect(workerLines.slice(0, 2)).toEqual([
      'worker exited (SIGABRT); restarting in 100 ms (restart 1)',
      'worker exited (SIGABRT); restarting in 200 ms (restart 2)',
    ]);
    expect(workerLines.filter((l) => l.includes('crash-looping'))).toEqual([
      expect.stringContaining('worker is crash-looping: 3 exits in a row'),
    ]);

    // The API was never touched: same process, still running, no restart.
    expect(api.child?.pid).toBe(apiPid);
    expect(api.child?.exitCode).toBeNull();
    expect(api.restarts).toBe(0);
    expect(lines.filter((l) => l.startsWith('api'))).toEqual([]);
  });

  it('a run that lasted the stable period resets the backoff to the initial delay', async () => {
    const lines: string[] = [];
    const worker = supervise({
      name: 'worker',
      spawn: () => node('setTimeout(() => process.exit(3), 250)'),
      stopChild,
      log: (l) => lines.push(l),
      backoff: { initialMs: 50, maxMs: 1_000, stableMs: 200, crashLoopAfter: 2 },
    });
    running.push(worker);
    await until(() => worker.restarts >= 3);
    expect(lines.slice(0, 3)).toEqual([
      'worker exited (3); restarting in 50 ms (restart 1)',
      'worker exited (3); restarting in 50 ms (restart 2)',
      'worker exited (3); restarting in 50 ms (restart 3)',
    ]);
  });

  it('stop ends the current run and cancels a pending restart', async () => {
    let spawns = 0;
    const worker = supervise({
      name: 'worker',
      spawn: () => (spawns++, node('process.exit(1)')),
      stopChild,
      log: () => {},
      backoff: { initialMs: 300, maxMs: 300 },
    });
    await until(() => worker.restarts === 1);
    await worker.stop();
    await new Promise((resolve) => setTimeout(resolve, 600));
    expect(spawns).toBe(1);
    expect(worker.child).toBeUndefined();

    const api = supervise({ name: 'api', spawn: () => node(LONG_RUNNING), stopChild, log: () => {} });
    const child = api.child!;
    await api.stop();
    expect(child.signalCode).toBe('SIGTERM');
    expect(api.restarts).toBe(0);
  });
});
