/**
 * T14 (no copy of integration data into shared, cross-workspace tables) and T13 (sync state is
 * workspace-scoped), checked on the live catalog: every table in the service's schema is
 * workspace-scoped, except an explicit list of bookkeeping tables that hold no customer data.
 * Adding a shared table (an "analytics" copy, a global cache) makes this fail.
 */
import type { Knex } from 'knex';
import { ownerDb } from '../support/db';
import { inRolledBackTransaction } from './support/rollback';

/** Tables without workspace_id, and why they may exist. */
const SHARED_TABLES: Record<string, string> = {
  knex_migrations: 'migration bookkeeping',
  knex_migrations_lock: 'migration bookkeeping',
  rate_limit_buckets:
    'API rate-limit counters keyed by a SHA-256 of the caller or workspace id: no id, no customer data',
  operator_audit_log:
    "our operators' payload decodes (operator id, namespace, payload count, outcome): no workspace's data, " +
    'since the codec sees only ciphertext and cannot know whose payload it decodes',
  kek_rotation_log:
    'key-encryption-key rotations (rotation id, KMS key ids, counts of re-wrapped data keys): keys of the whole ' +
    'deployment, no workspace id and no customer data',
};

async function sharedTables(db: Knex | Knex.Transaction): Promise<string[]> {
  const { rows } = await db.raw<{ rows: { table_name: string }[] }>(`
    SELECT c.relname AS table_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p', 'm', 'v')
      AND NOT EXISTS (SELECT 1 FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'workspace_id' AND NOT a.attisdropped)
    ORDER BY 1`);
  return rows.map((r) => r.table_name).filter((name) => !(name in SHARED_TABLES));
}

describe('T14 T13: integration data lives only in workspace-scoped tables', () => {
  let owner: Knex;
  beforeAll(() => {
    owner = ownerDb();
  });
  afterAll(() => owner.destroy());

  it('T14 T13: no table (or view) outside the bookkeeping list lacks workspace_id; sync_state and cached_records are scoped', async () => {
    expect(await sharedTables(owner)).toEqual([]);
    const scoped = await owner.raw<{ rows: { relname: string }[] }>(
      `SELECT relname FROM pg_class WHERE relname IN ('sync_state', 'cached_records') AND relrowsecurity AND relforcerowsecurity ORDER BY 1`,
    );
    expect(scoped.rows.map((r) => r.relname)).toEqual(['cached_records', 'sync_state']);
  });

  it('T14: the check reports a shared copy of source data', async () => {
    await inRolledBackTransaction(owner, async (trx) => {
      await trx.raw(`CREATE TABLE analytics_issues AS SELECT payload, fetched_at FROM cached_records WITH NO DATA`);
      expect(await sharedTables(trx)).toEqual(['analytics_issues']);
    });
  });
});
