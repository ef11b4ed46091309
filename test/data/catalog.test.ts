import type { Knex } from 'knex';
import { RUNTIME_ROLES } from '../../db/roles';
import { ownerDb } from '../support/db';
import { findIsolationViolations } from './support/catalogCheck';
import { inRolledBackTransaction } from './support/rollback';

describe('T20: the catalog enforces workspace isolation', () => {
  let owner: Knex;
  beforeAll(() => {
    owner = ownerDb();
  });
  afterAll(() => owner.destroy());

  it('T20: every customer table has RLS enabled and forced, an isolation policy, explicit grants and none to PUBLIC; runtime roles are plain', async () => {
    expect(await findIsolationViolations(owner)).toEqual([]);
  });

  it('T20: each runtime role holds exactly the table privileges of the data-tier contract', async () => {
    const expected: Record<string, { api: string; worker: string }> = {
      workspaces: { api: 'SIU', worker: 'SIUD' },
      integrations: { api: 'SIU', worker: 'SIUD' },
      consent_events: { api: 'SI', worker: 'SI' },
      secrets: { api: 'SI', worker: 'SIU' },
      sync_state: { api: 'S', worker: 'SIUD' },
      cached_records: { api: 'S', worker: 'SIUD' },
      webhook_endpoints: { api: 'S', worker: 'SIUD' },
      vendor_subscriptions: { api: 'S', worker: 'SIUD' },
      webhook_deliveries: { api: 'SI', worker: 'SUD' },
      oauth_states: { api: 'SIU', worker: 'SIUD' },
      audit_log: { api: 'SI', worker: 'SI' },
      audit_retention_horizon: { api: 'S', worker: 'S' },
      purge_receipts: { api: 'S', worker: 'SI' },
      kek_rotation_log: { api: '', worker: 'SI' },
    };
    const actual: Record<string, { api: string; worker: string }> = {};
    for (const table of Object.keys(expected)) {
      const privileges = async (role: string) => {
        const { rows } = await owner.raw<{ rows: { s: boolean; i: boolean; u: boolean; d: boolean; t: boolean }[] }>(
          `select has_table_privilege(:role, :table, 'SELECT') s, has_table_privilege(:role, :table, 'INSERT') i,
                  has_table_privilege(:role, :table, 'UPDATE') u, has_table_privilege(:role, :table, 'DELETE') d,
                  has_table_privilege(:role, :table, 'TRUNCATE') t`,
          { role, table },
        );
        const p = rows[0]!;
        return `${p.s ? 'S' : ''}${p.i ? 'I' : ''}${p.u ? 'U' : ''}${p.d ? 'D' : ''}${p.t ? 'T' : ''}`;
      };
      actual[table] = { api: await privileges(RUNTIME_ROLES.api), worker: await privileges(RUNTIME_ROLES.worker) };
    }
    expect(actual).toEqual(expected);
  });

  it('T20: the check reports a customer table created without RLS, and one with RLS but no policy', async () => {
    await inRolledBackTransaction(owner, async (trx) => {
      await trx.raw(`CREATE TABLE rogue_cache (workspace_id uuid NOT NULL, payload jsonb)`);
      await trx.raw(`GRANT SELECT ON rogue_cache TO ${RUNTIME_ROLES.worker}`);
      await trx.raw(`CREATE TABLE rogue_half (workspace_id uuid NOT NULL)`);
      await trx.raw(`ALTER TABLE rogue_half ENABLE ROW LEVEL SECURITY`);
      await trx.raw(`GRANT SELECT ON rogue_half TO PUBLIC`);
      const violations = await findIsolationViolations(trx);
      expect(violations).toEqual(
        expect.arrayContaining([
          'table rogue_cache: row level security not enabled',
          'table rogue_cache: row level security not forced',
          'table rogue_cache: no policy "workspace_id = app_current_workspace()" for ALL commands',
          'table rogue_half: row level security not forced',
          'table rogue_half: no policy "workspace_id = app_current_workspace()" for ALL commands',
          'table rogue_half: privileges granted to PUBLIC',
        ]),
      );
    });
    expect(await findIsolationViolations(owner)).toEqual([]);
  });

  it('T20: the check reports a SECURITY DEFINER function outside the allow-list', async () => {
    await inRolledBackTransaction(owner, async (trx) => {
      await trx.raw(
        `CREATE FUNCTION read_everything() RETURNS bigint LANGUAGE sql SECURITY DEFINER AS $$ SELECT count(*) FROM secrets $$`,
      );
      expect(await findIsolationViolations(trx)).toEqual(
        expect.arrayContaining([
          'function read_everything: SECURITY DEFINER outside the allow-list',
          'function read_everything: SECURITY DEFINER without a pinned search_path',
        ]),
      );
    });
  });
});
