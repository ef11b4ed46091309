import fc from 'fast-check';
import type { Knex } from 'knex';
import { createRuntimeDb } from '../../db/knex';
import type { RuntimeRole } from '../../db/roles';
import { withWorkspace } from '../../db/workspaceScope';
import { runtimeDb, superuserDb } from '../support/db';
import { testStack } from '../support/stackInfo';
import { seedWorkspace, withFreshKeys, type SeededWorkspace } from './support/fixtures';

/** Postgres SQLSTATE for both "permission denied" and "new row violates row-level security policy". */
const INSUFFICIENT_PRIVILEGE = '42501';

async function customerTables(db: Knex): Promise<string[]> {
  const { rows } = await db.raw<{ rows: { name: string }[] }>(`
    SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p')
      AND EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped)
    ORDER BY 1`);
  return rows.map((r) => r.name);
}

/** Runs a statement in its own savepoint: returns the affected row count, or the SQLSTATE it failed with. */
async function attempt(
  trx: Knex.Transaction,
  statement: (t: Knex.Transaction) => Promise<number>,
): Promise<number | string> {
  try {
    return await trx.transaction(statement);
  } catch (error) {
    return (error as { code?: string }).code ?? String(error);
  }
}

describe('T20 T7 T13 T14: workspace isolation through both runtime roles', () => {
  let superuser: Knex;
  const pools = {} as Record<RuntimeRole, Knex>;
  let tables: string[];
  let seeded: SeededWorkspace[];

  beforeAll(async () => {
    superuser = superuserDb();
    pools.api = runtimeDb('api');
    pools.worker = runtimeDb('worker');
    tables = await customerTables(superuser);
    seeded = [await seedWorkspace(superuser), await seedWorkspace(superuser), await seedWorkspace(superuser)];
  });
  afterAll(async () => {
    await Promise.all([superuser.destroy(), pools.api.destroy(), pools.worker.destroy()]);
  });

  it('T20: covers every customer table (12 data-tier tables and workspaces)', () => {
    expect(tables).toEqual(
      expect.arrayContaining([
        'audit_log',
        'cached_records',
        'consent_events',
        'integrations',
        'oauth_states',
        'purge_receipts',
        'secrets',
        'sync_state',
        'vendor_subscriptions',
        'webhook_deliveries',
        'webhook_endpoints',
        'workspaces',
        'audit_retention_horizon',
      ]),
    );
  });

  it('T20 T7: reads see only their workspace; cross-workspace UPDATE/DELETE touch nothing; INSERT for another workspace fails', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...tables),
        fc.constantFrom<RuntimeRole>('api', 'worker'),
        fc.integer({ min: 0, max: 2 }),
        fc.integer({ min: 1, max: 2 }),
        async (table, role, selfIndex, offset) => {
          const self = seeded[selfIndex]!;
          const other = seeded[(selfIndex + offset) % seeded.length]!;
          const otherRow = await superuser(table).where({ workspace_id: other.workspaceId }).first();
          expect(otherRow).toBeDefined();
          await withWorkspace(pools[role], self.workspaceId, async (trx) => {
            const visible = await attempt(trx, async (t) => {
              const rows: { workspace_id: string }[] = await t(table).select('workspace_id');
              if (rows.some((r) => r.workspace_id !== self.workspaceId))
                throw new Error(`${table}: another workspace's row is visible`);
              return rows.length;
            });
            // Every role may read every table it has any privilege on; one seeded row each.
            if (typeof visible === 'number') expect(visible).toBeGreaterThanOrEqual(1);
            else expect(visible).toBe(INSUFFICIENT_PRIVILEGE);

            const updated = await attempt(trx, (t) =>
              t(table).where({ workspace_id: other.workspaceId }).update({ workspace_id: other.workspaceId }),
            );
            expect([0, INSUFFICIENT_PRIVILEGE]).toContain(updated);
            const deleted = await attempt(trx, (t) => t(table).where({ workspace_id: other.workspaceId }).del());
            expect([0, INSUFFICIENT_PRIVILEGE]).toContain(deleted);
            const inserted = await attempt(
              trx,
              async (t) => (await t(table).insert(withFreshKeys(table, otherRow))).length ?? 1,
            );
            expect(inserted).toBe(INSUFFICIENT_PRIVILEGE);
          });
          // The other workspace's data is untouched.
          expect(await superuser(table).where({ workspace_id: other.workspaceId }).first()).toEqual(otherRow);
        },
      ),
      { numRuns: 120 },
    );
  });

  it('T20: an unset, empty or unknown workspace setting sees 0 rows in every table', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...tables),
        fc.constantFrom<RuntimeRole>('api', 'worker'),
        fc.oneof(fc.constant<string | undefined>(undefined), fc.constant(''), fc.uuid()),
        async (table, role, setting) => {
          await pools[role].transaction(async (trx) => {
            if (setting !== undefined) await trx.raw(`select set_config('app.workspace_id', ?, true)`, [setting]);
            const count = await attempt(trx, async (t) => Number((await t(table).count({ n: '*' }))[0]!.n));
            expect([0, INSUFFICIENT_PRIVILEGE]).toContain(count);
          });
        },
      ),
      { numRuns: 80 },
    );
  });

  it('T20: a pooled connection does not carry the workspace binding to the next transaction', async () => {
    const single = createRuntimeDb(testStack().database.appUrl, 'worker', 1);
    try {
      const [target] = seeded;
      const pids = new Set<number>();
      const seen = await withWorkspace(single, target!.workspaceId, async (trx) => {
        pids.add((await trx.raw('select pg_backend_pid() as pid')).rows[0].pid);
        return trx('integrations').count({ n: '*' });
      });
      expect(Number(seen[0]!.n)).toBe(1);
      const leaked = await single.transaction(async (trx): Promise<{ n: string | number }[]> => {
        pids.add((await trx.raw('select pg_backend_pid() as pid')).rows[0].pid);
        return trx('integrations').count({ n: '*' });
      });
      expect(pids.size).toBe(1); // same physical connection
      expect(Number(leaked[0]!.n)).toBe(0);
      // Outside any transaction too.
      expect(Number((await single('integrations').count({ n: '*' }))[0]!.n)).toBe(0);
    } finally {
      await single.destroy();
    }
  });

  it('T16: deleting a workspace removes its integration metadata but keeps its audit trail', async () => {
    const doomed = await seedWorkspace(superuser);
    await withWorkspace(pools.worker, doomed.workspaceId, (trx) =>
      trx('workspaces').where({ workspace_id: doomed.workspaceId }).del(),
    );
    for (const table of tables.filter((t) => !['audit_log', 'audit_retention_horizon'].includes(t))) {
      expect({ table, rows: await superuser(table).where({ workspace_id: doomed.workspaceId }) }).toEqual({
        table,
        rows: [],
      });
    }
    expect(await superuser('audit_log').where({ workspace_id: doomed.workspaceId })).toHaveLength(1);
  });
});
