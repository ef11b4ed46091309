/**
 * T23: rate-limit budgets are shared by API instances through Postgres (`rate_limit_consume`),
 * so N instances do not admit N × a caller's budget; the table holds hashes, never ids; a store
 * outage degrades to per-instance limits instead of failing requests.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { createRateLimiter, type RateLimitPolicy } from '../../api/rateLimit';
import { createPostgresRateLimitStore } from '../../db/rateLimits';
import { runtimeDb, superuserDb } from '../support/db';
import { bearer, createHarness, type Harness } from './support/harness';

/** The API's instances settle every 250 ms (api/rateLimit.ts): wait past two. */
const settled = () => new Promise((resolve) => setTimeout(resolve, 600));
/** The limiters below settle only when told, so what each admits before settling is exact. */
const NEVER = 3_600_000;
/** Practically no refill during a test: what is spent stays spent. */
const POLICY: RateLimitPolicy = {
  caller: { capacity: 10, refillPerSecond: 0.001 },
  workspace: { capacity: 1000, refillPerSecond: 0.001 },
};

describe('shared rate limits (real Postgres)', () => {
  let api: Knex;
  let su: Knex;
  beforeAll(() => {
    api = runtimeDb('api');
    su = superuserDb();
  });
  afterAll(async () => Promise.all([api.destroy(), su.destroy()]));

  const instance = () =>
    createRateLimiter(POLICY, { store: createPostgresRateLimitStore(api), settleIntervalMs: NEVER });
  const spend = async (limiter: ReturnType<typeof instance>, subject: string, times: number) => {
    const answers: number[] = [];
    for (let i = 0; i < times; i++) answers.push(await limiter.checkCaller(subject, 'w-shared'));
    return answers.filter((wait) => wait === 0).length;
  };

  it("T23: a caller's budget spent on one instance is spent on the others; a key new to an instance is read before it is judged", async () => {
    const a = instance();
    const b = instance();
    const subject = `caller-${crypto.randomUUID()}`;
    try {
      expect(await spend(a, subject, 12)).toBe(10);
      await a.settle();
      // B has never seen the caller: it reads the shared bucket first, and finds it empty.
      expect(await spend(b, subject, 3)).toBe(0);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("T23: instances admitting at once pass the budget by at most one settlement's worth, then all refuse", async () => {
    const instances = [instance(), instance(), instance()];
    const subject = `caller-${crypto.randomUUID()}`;
    try {
      // Each reads the fresh bucket (10 left), then spends 6 before any settlement: 18 admitted against 10.
      expect(await Promise.all(instances.map((limiter) => spend(limiter, subject, 6)))).toEqual([6, 6, 6]);
      // The first round adds each one's use to the shared bucket; the next brings every instance the total.
      await Promise.all(instances.map((limiter) => limiter.settle()));
      await Promise.all(instances.map((limiter) => limiter.settle()));
      expect(await Promise.all(instances.map((limiter) => spend(limiter, subject, 2)))).toEqual([0, 0, 0]);
    } finally {
      await Promise.all(instances.map((limiter) => limiter.close()));
    }
  });

  it('T23 T25: the table holds SHA-256 keys, never a subject or workspace id, and the API role can only call the function', async () => {
    const subject = `canary-subject-${crypto.randomUUID()}`;
    const limiter = instance();
    await limiter.checkCaller(subject, 'canary-workspace');
    await limiter.close();
    const rows = await su('rate_limit_buckets').select('bucket_key');
    const expected = crypto.createHash('sha256').update(`caller:${subject}`).digest();
    expect(rows.some((row: { bucket_key: Buffer }) => row.bucket_key.equals(expected))).toBe(true);
    expect(
      rows.every(
        (row: { bucket_key: Buffer }) =>
          row.bucket_key.length === 32 && !row.bucket_key.toString('latin1').includes('canary'),
      ),
    ).toBe(true);
    await expect(api('rate_limit_buckets').select('*')).rejects.toThrow(/permission denied/);
    await expect(
      api.raw(`select * from rate_limit_consume(array['not-a-hash'], array[1], array[1.0], array[1.0])`),
    ).rejects.toThrow(/invalid arguments/);
  });

  it('settles one at a time: a slow store never has two settlements of one instance in flight', async () => {
    let inFlight = 0;
    let most = 0;
    let calls = 0;
    const limiter = createRateLimiter(POLICY, {
      store: {
        consume: async (uses) => {
          calls += 1;
          most = Math.max(most, ++inFlight);
          await new Promise((resolve) => setTimeout(resolve, 50));
          inFlight -= 1;
          return new Map(uses.map((use) => [use.key, use.capacity - use.used]));
        },
      },
      settleIntervalMs: 5,
    });
    try {
      await Promise.all(['a', 'b', 'c'].map((subject) => limiter.checkCaller(subject, 'w-slow')));
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(most).toBe(1);
      expect(calls).toBeGreaterThan(1);
    } finally {
      await limiter.close();
    }
  });

  it('T23: when the store fails, each instance applies its own budget and the outage is reported once', async () => {
    const errors: unknown[] = [];
    const limiter = createRateLimiter(POLICY, {
      store: {
        consume: async () => {
          throw new Error('store down');
        },
      },
      onStoreError: (error) => errors.push(error),
      settleIntervalMs: NEVER,
    });
    try {
      expect(await spend(limiter, 'caller-offline', 12)).toBe(10);
      await limiter.settle();
      await limiter.settle();
      expect(errors).toHaveLength(1);
    } finally {
      await limiter.close();
    }
  });
});

describe('shared rate limits over two API instances', () => {
  let one: Harness;
  let two: Harness;
  beforeAll(async () => {
    const rateLimits: RateLimitPolicy = {
      caller: { capacity: 3, refillPerSecond: 0.001 },
      workspace: { capacity: 100, refillPerSecond: 0.001 },
    };
    [one, two] = await Promise.all([
      createHarness({ rateLimits, sharedRateLimits: true }),
      createHarness({ rateLimits, sharedRateLimits: true }),
    ]);
  });
  afterAll(async () => Promise.all([one.close(), two.close()]));

  it('T23: a caller that spent its budget on one instance gets 429 with Retry-After from the other', async () => {
    const ws = crypto.randomUUID();
    const sub = `busy-${crypto.randomUUID()}`;
    const call = async (h: Harness) =>
      await h.app.inject({
        method: 'GET',
        url: `/v1/workspaces/${ws}/integrations`,
        headers: bearer(await h.token({ workspaceId: ws, role: 'member', sub })),
      });
    const first = [];
    for (let i = 0; i < 3; i++) first.push((await call(one)).statusCode);
    expect(first).toEqual([200, 200, 200]);
    await settled();
    const refused = await call(two);
    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });
});
