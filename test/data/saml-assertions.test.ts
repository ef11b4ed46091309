/**
 * The SAML replay store (db/samlAssertions.ts, migration 0014) as the worker uses it: an assertion id
 * is claimed once per workspace, racing claims have one winner, expired claims are cleared, and the
 * table is workspace-isolated with forced RLS (T20) and out of the API role's reach.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { createSamlAssertionClaims } from '../../db/samlAssertions';
import { withWorkspace } from '../../db/workspaceScope';
import { runtimeDb, superuserDb } from '../support/db';
import { seedWorkspace } from './support/fixtures';

const IDP = 'http://www.okta.com/exk1trackproject0x7';

describe('SAML assertion replay store (real Postgres, worker role)', () => {
  let superuser: Knex;
  let worker: Knex;
  let api: Knex;

  beforeAll(() => {
    superuser = superuserDb();
    worker = runtimeDb('worker');
    api = runtimeDb('api');
  });
  afterAll(() => Promise.all([superuser.destroy(), worker.destroy(), api.destroy()]));

  const inFiveMinutes = () => new Date(Date.now() + 5 * 60_000);

  it('T18 [okta]: an assertion id is claimed once; racing workers have one winner; the id itself is not stored', async () => {
    const { workspaceId } = await seedWorkspace(superuser);
    const assertionId = `id${crypto.randomBytes(16).toString('hex')}`;
    const claims = [
      createSamlAssertionClaims(worker, workspaceId, IDP),
      createSamlAssertionClaims(worker, workspaceId, IDP),
    ];
    const raced = await Promise.all(claims.map((store) => store.claim(assertionId, inFiveMinutes())));
    expect(raced.sort()).toEqual([false, true]);
    expect(await claims[0]!.claim(assertionId, inFiveMinutes())).toBe(false);
    // The same id from another IdP is another assertion.
    expect(
      await createSamlAssertionClaims(worker, workspaceId, 'https://sts.windows.net/x/').claim(
        assertionId,
        inFiveMinutes(),
      ),
    ).toBe(true);
    const rows = await superuser('saml_assertion_ids').where({ workspace_id: workspaceId });
    expect(JSON.stringify(rows)).not.toContain(assertionId);
  });

  it('T20: claims are per workspace under forced RLS, expired ones are cleared, and the API role has no access', async () => {
    const [a, b] = [await seedWorkspace(superuser), await seedWorkspace(superuser)];
    const assertionId = `id${crypto.randomBytes(16).toString('hex')}`;
    expect(
      await createSamlAssertionClaims(worker, a.workspaceId, IDP).claim(assertionId, new Date(Date.now() + 1_000)),
    ).toBe(true);
    // Another workspace neither sees nor blocks it.
    expect(await createSamlAssertionClaims(worker, b.workspaceId, IDP).claim(assertionId, inFiveMinutes())).toBe(true);
    const visibleToB = await withWorkspace(worker, b.workspaceId, (trx) =>
      trx('saml_assertion_ids').select('workspace_id'),
    );
    expect(new Set(visibleToB.map((row) => row.workspace_id))).toEqual(new Set([b.workspaceId]));
    const { rows } = await superuser.raw<{ rows: { relforcerowsecurity: boolean }[] }>(
      `SELECT relforcerowsecurity FROM pg_class WHERE relname = 'saml_assertion_ids'`,
    );
    expect(rows[0]!.relforcerowsecurity).toBe(true);
    await expect(
      withWorkspace(api, a.workspaceId, (trx) => trx('saml_assertion_ids').select('workspace_id')),
    ).rejects.toMatchObject({ code: '42501' });
    // Once the assertion could no longer be accepted, its claim is cleared by the next claim.
    await superuser('saml_assertion_ids')
      .where({ workspace_id: a.workspaceId })
      .update({ expires_at: new Date(Date.now() - 1_000) });
    expect(
      await createSamlAssertionClaims(worker, a.workspaceId, IDP).claim(`id-${crypto.randomUUID()}`, inFiveMinutes()),
    ).toBe(true);
    expect(await superuser('saml_assertion_ids').where({ workspace_id: a.workspaceId })).toHaveLength(1);
  });
});
