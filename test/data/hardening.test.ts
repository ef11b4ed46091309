/**
 * Database hardening (issue #18, item 7): temporary tables cannot shadow the audit log, and the
 * shared rate-limit function refuses non-finite budgets.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { RUNTIME_ROLES } from '../../db/roles';
import { runtimeDb, superuserDb } from '../support/db';
import { inRolledBackTransaction } from './support/rollback';

describe('database hardening', () => {
  let api: Knex;
  let superuser: Knex;
  beforeAll(() => {
    api = runtimeDb('api');
    superuser = superuserDb();
  });
  afterAll(() => Promise.all([api.destroy(), superuser.destroy()]));

  it('T20 T24: a runtime role cannot create a temporary table (TEMP is revoked from PUBLIC)', async () => {
    await expect(api.raw('CREATE TEMP TABLE audit_log (workspace_id uuid)')).rejects.toMatchObject({ code: '42501' });
  });

  it('T24: even a role granted TEMP cannot shadow audit_log to make the chain check accept a forged link', async () => {
    const workspaceId = crypto.randomUUID();
    const forgedHead = crypto.randomBytes(32);
    await inRolledBackTransaction(superuser, async (trx) => {
      await trx.raw(`GRANT TEMPORARY ON DATABASE integrations TO ${RUNTIME_ROLES.api}`);
      await trx.raw(`SET LOCAL ROLE ${RUNTIME_ROLES.api}`);
      await trx.raw(`select set_config('app.workspace_id', ?, true)`, [workspaceId]);
      await trx.raw('CREATE TEMP TABLE audit_log (workspace_id uuid, seq bigint, hash bytea) ON COMMIT DROP');
      await trx.raw('INSERT INTO pg_temp.audit_log VALUES (?, 41, ?)', [workspaceId, forgedHead]);
      // The workspace's real chain is empty: only seq 1 after 32 zero bytes extends it.
      await expect(
        trx.raw(
          `INSERT INTO public.audit_log (workspace_id, seq, created_at, actor_type, actor_id, direction, action, outcome, prev_hash, hash)
           VALUES (?, 42, now(), 'user', 'forger', 'inbound', 'api.forged', 'success', ?, ?)`,
          [workspaceId, forgedHead, crypto.randomBytes(32)],
        ),
      ).rejects.toThrow(/does not extend the chain head/);
    });
  });

  it.each([
    ['NaN capacity', Number.NaN, 1],
    ['Infinity capacity', Number.POSITIVE_INFINITY, 1],
    ['-Infinity capacity', Number.NEGATIVE_INFINITY, 1],
    ['negative capacity', -5, 1],
    ['NaN refill', 10, Number.NaN],
    ['Infinity refill', 10, Number.POSITIVE_INFINITY],
    ['negative refill', 10, -1],
  ])('T23: rate_limit_consume refuses a %s', async (_case, capacity, refill) => {
    const key = crypto.randomBytes(32).toString('hex');
    await expect(
      api.raw(
        'select * from rate_limit_consume(?::text[], ?::integer[], ?::double precision[], ?::double precision[])',
        [[key], [1], [String(capacity)], [String(refill)]],
      ),
    ).rejects.toThrow(/rate_limit_consume: invalid arguments/);
    expect(await superuser('rate_limit_buckets').where({ bucket_key: Buffer.from(key, 'hex') })).toHaveLength(0);
  });
});
