/**
 * The refresh lock under a burst of due refreshes (found by `npm run bench:scale`): each lock holds a
 * pool connection while its refresh needs another for the secret store, so as many refreshes as
 * connections used to wait on each other until knex timed out. Real Postgres, a runtime pool of 4.
 */
import crypto from 'node:crypto';
import { withRefreshLock } from '../../activities/integrations/context';
import { createSemaphore } from '../../lib/semaphore';
import { runtimeDb } from '../support/db';

jest.setTimeout(30_000);

describe('withRefreshLock', () => {
  it('finishes a burst of refreshes larger than the pool, each querying on another connection while locked', async () => {
    const db = runtimeDb('worker', 4);
    try {
      const started = Date.now();
      const refreshes = Array.from({ length: 12 }, () =>
        withRefreshLock(db, { workspaceId: crypto.randomUUID(), integrationId: crypto.randomUUID() }, async () => {
          // Let every lock take its connection first, as a burst of vendor calls would.
          await new Promise((resolve) => setTimeout(resolve, 100));
          const row = (await db.raw('select 1 as one')) as { rows: Array<{ one: number }> };
          return row.rows[0]!.one;
        }),
      );
      expect(await Promise.all(refreshes)).toEqual(Array(12).fill(1));
      // Well inside knex's 60 s wait for a connection, which a stalled burst would have hit.
      expect(Date.now() - started).toBeLessThan(20_000);
    } finally {
      await db.destroy();
    }
  });

  it('still serializes two refreshes of one integration', async () => {
    const db = runtimeDb('worker', 4);
    try {
      const ref = { workspaceId: crypto.randomUUID(), integrationId: crypto.randomUUID() };
      const events: string[] = [];
      const refresh = (name: string) =>
        withRefreshLock(db, ref, async () => {
          events.push(`${name}:start`);
          await new Promise((resolve) => setTimeout(resolve, 100));
          events.push(`${name}:end`);
        });
      await Promise.all([refresh('a'), refresh('b')]);
      expect([events.slice(0, 2), events.slice(2)].map((pair) => pair.map((e) => e.split(':')[1]))).toEqual([
        ['start', 'end'],
        ['start', 'end'],
      ]);
    } finally {
      await db.destroy();
    }
  });
});

describe('createSemaphore', () => {
  it('runs at most its capacity at once, the others in arrival order, and frees a slot when work fails', async () => {
    const slots = createSemaphore(2);
    let running = 0;
    let most = 0;
    const order: number[] = [];
    const work = (n: number) =>
      slots.run(async () => {
        running += 1;
        most = Math.max(most, running);
        order.push(n);
        await new Promise((resolve) => setTimeout(resolve, 10));
        running -= 1;
        if (n === 1) throw new Error('failed work');
        return n;
      });
    const results = await Promise.allSettled([0, 1, 2, 3, 4].map(work));
    expect(most).toBe(2);
    expect(order).toEqual([0, 1, 2, 3, 4]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
    expect(() => createSemaphore(0)).toThrow(RangeError);
  });
});
