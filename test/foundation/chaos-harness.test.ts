/**
 * The chaos harness's own parts (`npm run chaos` runs the trials; too long for `npm test`): the
 * verifier detects a lost record, a duplicated one and inconsistent cursors; the TCP proxy refuses
 * connections while cut and forwards again once restored; the emulators' fault mode answers the
 * share of 503s and 429s it is set to.
 */
import http from 'node:http';
import net from 'node:net';
import { compareRecords, type ResourceState } from '../../dev/chaos/verify';
import { startTcpProxy } from '../../dev/chaos/tcpProxy';
import { seededRandom } from '../../dev/chaos/trial';
import { EmulatorRouter, createFaultMode, startEmulatorServer } from '../../emulators/shared';

const source = { repositories: ['1', '2'], issues: ['10', '11', '12'] };
const idle = (resource: string, recordsUpserted: number, pages = 1): ResourceState => ({
  resource,
  status: 'idle',
  pages,
  recordsUpserted,
  recordsDeleted: 0,
});
const states = [idle('repositories', 2), idle('issues', 3)];
const run = { pages: 2, recordsUpserted: 5, recordsDeleted: 0 };

describe('chaos verifier', () => {
  it('finds nothing wrong when the cache holds the source exactly once', () => {
    expect(compareRecords({ source, cached: source, states, run })).toEqual({
      expected: 5,
      cached: 5,
      lost: 0,
      duplicated: 0,
      cursorsConsistent: true,
      cursorProblems: [],
    });
  });

  it('detects a lost record', () => {
    const cached = { repositories: ['1', '2'], issues: ['10', '12'] };
    const result = compareRecords({ source, cached, states: [idle('repositories', 2), idle('issues', 2)], run });
    expect(result).toMatchObject({ expected: 5, cached: 4, lost: 1, duplicated: 0 });
  });

  it('detects a duplicated record, and a page committed twice by one run', () => {
    const twice = { repositories: ['1', '2'], issues: ['10', '11', '11', '12'] };
    expect(compareRecords({ source, cached: twice, states, run })).toMatchObject({ lost: 0, duplicated: 1 });
    // The page replayed after a crash: its upserts counted again over the same rows.
    const replayed = [idle('repositories', 4, 2), idle('issues', 3)];
    expect(compareRecords({ source, cached: source, states: replayed, run })).toMatchObject({
      lost: 0,
      duplicated: 0,
      cursorsConsistent: false,
      cursorProblems: [
        'repositories: 4 upserts committed for 2 records',
        'pages: the run counted 2, 3 committed',
        'recordsUpserted: the run counted 5, 7 committed',
      ],
    });
    // After several runs the counters add up over them: only the records and the round states count.
    expect(compareRecords({ source, cached: source, states: replayed })).toMatchObject({
      duplicated: 0,
      cursorsConsistent: true,
    });
  });

  it('detects inconsistent cursors: a round left running, counters the run does not agree with', () => {
    const running = [idle('repositories', 2), { ...idle('issues', 3), status: 'running' }];
    expect(compareRecords({ source, cached: source, states: running, run }).cursorProblems).toEqual([
      'issues: running, not idle',
    ]);
    expect(
      compareRecords({ source, cached: source, states, run: { ...run, recordsUpserted: 4 } }).cursorProblems,
    ).toEqual(['recordsUpserted: the run counted 4, 5 committed']);
  });
});

describe('chaos TCP proxy', () => {
  const get = (url: string) =>
    new Promise<number>((resolve, reject) =>
      http.get(url, { agent: false }, (res) => (res.resume(), resolve(res.statusCode!))).on('error', reject),
    );

  it('forwards, refuses while cut (open connections severed), forwards again once restored', async () => {
    const server = await startEmulatorServer({
      router: new EmulatorRouter().on('GET', '/ping', () => ({ status: 204 })),
    });
    const proxy = await startTcpProxy(server.url);
    try {
      expect(await get(`${proxy.url}/ping`)).toBe(204);
      const held = net.connect(Number(new URL(proxy.url).port), '127.0.0.1');
      await new Promise((resolve) => held.once('connect', resolve));
      const severed = new Promise((resolve) => held.once('close', resolve));
      await proxy.cut();
      await severed;
      await expect(get(`${proxy.url}/ping`)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
      await proxy.restore();
      expect(await get(`${proxy.url}/ping`)).toBe(204);
      expect(proxy.counts()).toMatchObject({ connections: 3, severed: 1 });
    } finally {
      await proxy.stop();
      await server.stop();
    }
  });
});

describe('emulator fault mode', () => {
  it('answers the share of 503s and 429s (with Retry-After) it is set to, and nothing once cleared', async () => {
    const faults = createFaultMode(seededRandom(42));
    faults.set({ errorRate: 0.3, retryAfterSeconds: 2 });
    const answers = await Promise.all(Array.from({ length: 1000 }, () => faults.intercept()));
    const failed = answers.filter((answer) => answer !== undefined);
    expect(failed.length).toBeGreaterThan(250);
    expect(failed.length).toBeLessThan(350);
    expect(failed.filter((answer) => answer!.status === 429).every((a) => a!.headers?.['retry-after'] === '2')).toBe(
      true,
    );
    expect(faults.counts()).toEqual({
      requests: 1000,
      serverErrors: failed.filter((answer) => answer!.status === 503).length,
      throttled: failed.filter((answer) => answer!.status === 429).length,
    });
    expect(faults.counts().serverErrors).toBeGreaterThan(0);
    expect(faults.counts().throttled).toBeGreaterThan(0);
    faults.clear();
    expect(await faults.intercept()).toBeUndefined();
  });
});
