import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { AuditEntryRejectedError, createAuditLog, listAudit, verifyAuditChain } from '../../db/audit';
import { applyAuditRetention } from '../../db/retention';
import type { RuntimeRole } from '../../db/roles';
import { withWorkspace } from '../../db/workspaceScope';
import type { AuditEntry } from '../../lib/audit';
import { ownerDb, runtimeDb, superuserDb } from '../support/db';

const entry = (workspaceId: string, overrides: Partial<AuditEntry> = {}): AuditEntry => ({
  workspaceId,
  actor: { type: 'workflow', id: `wf-${crypto.randomUUID()}` },
  direction: 'outbound',
  vendor: 'github',
  integrationId: crypto.randomUUID(),
  action: 'github.repos.list',
  scope: 'metadata:read',
  outcome: 'success',
  requestId: 'req-1',
  ...overrides,
});

describe('T10 T24: append-only, hash-chained workspace audit log', () => {
  const pools = {} as Record<RuntimeRole, Knex>;
  let superuser: Knex;
  let owner: Knex;

  beforeAll(() => {
    pools.api = runtimeDb('api');
    pools.worker = runtimeDb('worker', 10);
    superuser = superuserDb();
    owner = ownerDb();
  });
  afterAll(async () => {
    await Promise.all([pools.api.destroy(), pools.worker.destroy(), superuser.destroy(), owner.destroy()]);
  });

  it('T10 T24: 50 concurrent inserts for one workspace keep the chain gapless and valid', async () => {
    const workspaceId = crypto.randomUUID();
    const audit = createAuditLog(pools.worker);
    await Promise.all(Array.from({ length: 50 }, (_, i) => audit.record(entry(workspaceId, { action: `call.${i}` }))));
    expect(await verifyAuditChain(pools.worker, workspaceId)).toEqual({ ok: true, count: 50 });
    const seqs = (await superuser('audit_log').where({ workspace_id: workspaceId }).orderBy('seq').pluck('seq')).map(
      Number,
    );
    expect(seqs).toEqual(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it.each(['api', 'worker'] as const)(
    'T24: the %s role cannot UPDATE, DELETE or TRUNCATE the audit log',
    async (role) => {
      const workspaceId = crypto.randomUUID();
      await createAuditLog(pools[role]).record(entry(workspaceId));
      const attempts = [
        (trx: Knex.Transaction) => trx('audit_log').update({ outcome: 'failure' }),
        (trx: Knex.Transaction) => trx('audit_log').del(),
        (trx: Knex.Transaction) => trx.raw('TRUNCATE audit_log'),
        (trx: Knex.Transaction) => trx.raw('select audit_log_apply_retention(now())'),
      ];
      for (const attempt of attempts) {
        await expect(withWorkspace(pools[role], workspaceId, attempt)).rejects.toMatchObject({ code: '42501' });
      }
      expect(await verifyAuditChain(pools[role], workspaceId)).toEqual({ ok: true, count: 1 });
    },
  );

  it('T24: even the owner and the superuser are refused by the append-only trigger', async () => {
    const workspaceId = crypto.randomUUID();
    await createAuditLog(pools.worker).record(entry(workspaceId));
    await expect(
      withWorkspace(owner, workspaceId, (trx) => trx('audit_log').update({ outcome: 'failure' })),
    ).rejects.toThrow(/append-only/);
    await expect(withWorkspace(owner, workspaceId, (trx) => trx('audit_log').del())).rejects.toThrow(/append-only/);
    await expect(owner.raw('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
    await expect(superuser('audit_log').where({ workspace_id: workspaceId }).del()).rejects.toThrow(/append-only/);
    // Setting the retention flag by hand grants nothing to a role that is not the owner running retention.
    await expect(
      withWorkspace(pools.worker, workspaceId, async (trx) => {
        await trx.raw(`select set_config('app.audit_retention', 'on', true)`);
        await trx('audit_log').del();
      }),
    ).rejects.toMatchObject({ code: '42501' });
  });

  it('T24: a row tampered with by the superuser (triggers off) is detected at its seq', async () => {
    const workspaceId = crypto.randomUUID();
    const audit = createAuditLog(pools.worker);
    for (let i = 0; i < 10; i += 1) await audit.record(entry(workspaceId, { action: `step.${i}` }));
    await superuser.transaction(async (trx) => {
      await trx.raw(`SET LOCAL session_replication_role = replica`);
      await trx('audit_log').where({ workspace_id: workspaceId, seq: 7 }).update({ outcome: 'denied' });
    });
    expect(await verifyAuditChain(pools.api, workspaceId)).toEqual({ ok: false, brokenAtSeq: '7' });
    await superuser.transaction(async (trx) => {
      await trx.raw(`SET LOCAL session_replication_role = replica`);
      await trx('audit_log').where({ workspace_id: workspaceId, seq: 7 }).update({ outcome: 'success' });
      await trx('audit_log').where({ workspace_id: workspaceId, seq: 4 }).del();
    });
    expect(await verifyAuditChain(pools.api, workspaceId)).toEqual({ ok: false, brokenAtSeq: '4' });
  });

  it('T24: a row that does not extend the chain head is refused by the database', async () => {
    const workspaceId = crypto.randomUUID();
    await createAuditLog(pools.worker).record(entry(workspaceId));
    const forged = {
      workspace_id: workspaceId,
      seq: 5,
      created_at: new Date(),
      actor_type: 'system',
      actor_id: 'x',
      direction: 'internal',
      action: 'forged',
      outcome: 'success',
      prev_hash: Buffer.alloc(32),
      hash: crypto.randomBytes(32),
    };
    await expect(withWorkspace(pools.worker, workspaceId, (trx) => trx('audit_log').insert(forged))).rejects.toThrow(
      /does not extend the chain/,
    );
  });

  it('T10 T24: the one-statement append refuses to rebind a transaction of another workspace, and a hash it was fed wrongly fails verification', async () => {
    const [bound, other] = [crypto.randomUUID(), crypto.randomUUID()];
    const append = (trx: Knex.Transaction, workspaceId: string, prefix: string) =>
      trx.raw('select audit_log_append(?, now(), ?, ?, ?, null, null, ?, null, ?, null, null, null, ?, ?)', [
        workspaceId,
        'system',
        'x',
        'internal',
        'probe',
        'success',
        prefix,
        '"]',
      ]);
    await expect(withWorkspace(pools.worker, bound, (trx) => append(trx, other, '["'))).rejects.toThrow(
      /bound to another workspace/,
    );
    expect(await superuser('audit_log').whereIn('workspace_id', [bound, other])).toEqual([]);
    // Appended with a canonical text that is not the row's: stored, but the chain check names it.
    await createAuditLog(pools.worker).record(entry(other));
    await withWorkspace(pools.worker, other, (trx) => append(trx, other, '["not-the-canonical-form'));
    expect(await verifyAuditChain(pools.worker, other)).toEqual({ ok: false, brokenAtSeq: '2' });
  });

  it('T10 T25: entries carrying tokens, JWTs, e-mail addresses or payload-like text are refused without echoing them', async () => {
    const audit = createAuditLog(pools.worker);
    const workspaceId = crypto.randomUUID();
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl';
    const cases: Partial<AuditEntry>[] = [
      { actor: { type: 'user', id: jwt } },
      { actor: { type: 'user', id: 'jane.doe@example.com' } },
      { requestId: 'ghp_0123456789abcdefABCDEF0123456789abcd' },
      { scope: 'repo Bearer abc' },
      { errorClass: 'Error: token=abc leaked' },
      { action: '{"payload": 1}' },
      { workflowId: 'x'.repeat(201) },
      { integrationId: 'not-a-uuid' },
    ];
    for (const overrides of cases) {
      const error = await audit.record(entry(workspaceId, overrides)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AuditEntryRejectedError);
      expect((error as Error).message).not.toContain(jwt);
      expect((error as Error).message).not.toContain('jane.doe');
    }
    expect(await superuser('audit_log').where({ workspace_id: workspaceId })).toHaveLength(0);
  });

  it('T10: lists newest first with keyset pagination and filters', async () => {
    const workspaceId = crypto.randomUUID();
    const audit = createAuditLog(pools.worker);
    for (let i = 0; i < 7; i += 1) {
      await audit.record(
        entry(workspaceId, {
          action: i % 2 ? 'webhook.receive' : 'github.call',
          direction: i % 2 ? 'inbound' : 'outbound',
          outcome: i === 3 ? 'denied' : 'success',
        }),
      );
    }
    const first = await listAudit(pools.api, workspaceId, { limit: 3 });
    expect(first.entries.map((e) => e.seq)).toEqual(['7', '6', '5']);
    const second = await listAudit(pools.api, workspaceId, { limit: 3, cursor: first.nextCursor! });
    expect(second.entries.map((e) => e.seq)).toEqual(['4', '3', '2']);
    const last = await listAudit(pools.api, workspaceId, { limit: 3, cursor: second.nextCursor! });
    expect(last).toMatchObject({ entries: [{ seq: '1' }], nextCursor: null });
    const inbound = await listAudit(pools.api, workspaceId, { limit: 10, filters: { direction: 'inbound' } });
    expect(inbound.entries.map((e) => e.seq)).toEqual(['6', '4', '2']);
    const denied = await listAudit(pools.api, workspaceId, {
      limit: 10,
      filters: { outcome: 'denied', action: 'webhook.receive' },
    });
    expect(denied.entries).toEqual([
      expect.objectContaining({ seq: '4', outcome: 'denied', actor: expect.objectContaining({ type: 'workflow' }) }),
    ]);
    expect(await listAudit(pools.api, crypto.randomUUID(), { limit: 10 })).toEqual({ entries: [], nextCursor: null });
  });

  it('T24: retention removes only a chain prefix through the owner routine; the kept chain still verifies and grows', async () => {
    const workspaceId = crypto.randomUUID();
    const audit = createAuditLog(pools.worker);
    for (let i = 0; i < 4; i += 1) await audit.record(entry(workspaceId));
    await new Promise((resolve) => setTimeout(resolve, 20));
    const cutoff = new Date();
    for (let i = 0; i < 3; i += 1) await audit.record(entry(workspaceId));
    const removed = await applyAuditRetention(owner, cutoff);
    expect(removed).toBeGreaterThanOrEqual(4);
    expect(
      (await superuser('audit_log').where({ workspace_id: workspaceId }).orderBy('seq').pluck('seq')).map(Number),
    ).toEqual([5, 6, 7]);
    expect(await verifyAuditChain(pools.worker, workspaceId)).toEqual({ ok: true, count: 3 });
    await audit.record(entry(workspaceId));
    expect(await verifyAuditChain(pools.worker, workspaceId)).toEqual({ ok: true, count: 4 });
  });
});
