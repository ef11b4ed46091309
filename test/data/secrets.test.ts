import { execFile } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import fc from 'fast-check';
import type { Knex } from 'knex';
import {
  IntegrityError,
  LocalKeyProvider,
  SecretNotFoundError,
  SecretStateError,
  SecretStore,
  localKeyId,
  UnknownKeyError,
  kekUsage,
  localKeyProviderFromConfig,
  rewrapBatch,
} from '../../db/secrets';
import { runtimeDb, superuserDb } from '../support/db';
import { createIsolatedDatabase, seedIntegration } from '../support/isolatedDatabase';
import { testStack } from '../support/stackInfo';
import { seedWorkspace } from './support/fixtures';

const run = promisify(execFile);
const kek = () => crypto.randomBytes(32);

describe('T6 T7 T8: envelope-encrypted secret store', () => {
  let worker: Knex;
  let superuser: Knex;
  const firstKek = kek();
  const keys = new LocalKeyProvider([firstKek]);
  let store: SecretStore;

  beforeAll(() => {
    worker = runtimeDb('worker');
    superuser = superuserDb();
    store = new SecretStore(worker, keys);
  });
  afterAll(async () => {
    await Promise.all([worker.destroy(), superuser.destroy()]);
  });

  it('T6 T8: stores, reads and rotates versions: pending → current → previous → retired', async () => {
    const { workspaceId, integrationId } = await seedWorkspace(superuser);
    const v1 = await store.put({
      workspaceId,
      integrationId,
      kind: 'oauth-tokens',
      plaintext: 'token-one',
      state: 'current',
    });
    await expect(
      store.put({ workspaceId, integrationId, kind: 'oauth-tokens', plaintext: 'x', state: 'current' }),
    ).rejects.toBeInstanceOf(SecretStateError);
    const v2 = await store.put({
      workspaceId,
      integrationId,
      kind: 'oauth-tokens',
      plaintext: 'token-two',
      state: 'pending',
    });
    expect([v1.version, v2.version]).toEqual([1, 2]);
    expect((await store.current(workspaceId, integrationId, 'oauth-tokens'))?.secretId).toBe(v1.secretId);
    await store.promote(workspaceId, v2.secretId);
    expect((await store.current(workspaceId, integrationId, 'oauth-tokens'))?.secretId).toBe(v2.secretId);
    expect((await store.read(workspaceId, v2.secretId)).toString()).toBe('token-two');
    expect((await store.read(workspaceId, v1.secretId)).toString()).toBe('token-one'); // previous: overlap window
    const v3 = await store.put({
      workspaceId,
      integrationId,
      kind: 'oauth-tokens',
      plaintext: 'token-three',
      state: 'pending',
    });
    await store.promote(workspaceId, v3.secretId);
    const states = await superuser('secrets')
      .where({ integration_id: integrationId, kind: 'oauth-tokens' })
      .orderBy('version')
      .pluck('state');
    expect(states).toEqual(['retired', 'previous', 'current']);
    await expect(store.read(workspaceId, v1.secretId)).rejects.toBeInstanceOf(SecretStateError);
    // The three token versions and the fixture's webhook signing secret.
    expect(await store.destroyForIntegration(workspaceId, integrationId)).toBe(4);
    const destroyed = await superuser('secrets').where({ integration_id: integrationId });
    expect(
      destroyed.every(
        (r) => r.state === 'destroyed' && r.ciphertext === null && r.wrapped_dek === null && r.kek_id === null,
      ),
    ).toBe(true);
  });

  it('T6: any flipped bit of ciphertext, tag, IV or wrapped DEK fails to decrypt', async () => {
    const { workspaceId, integrationId } = await seedWorkspace(superuser);
    const { secretId } = await store.put({
      workspaceId,
      integrationId,
      kind: 'service-account',
      plaintext: 'svc-credential-123',
      state: 'current',
    });
    const original = await superuser('secrets').where({ secret_id: secretId }).first();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('ciphertext', 'auth_tag', 'iv', 'wrapped_dek'),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        async (column, byteSeed, bit) => {
          const bytes = Buffer.from(original[column] as Buffer);
          bytes[byteSeed % bytes.length]! ^= 1 << bit;
          await superuser('secrets')
            .where({ secret_id: secretId })
            .update({ [column]: bytes });
          try {
            await expect(store.read(workspaceId, secretId)).rejects.toBeInstanceOf(IntegrityError);
          } finally {
            await superuser('secrets')
              .where({ secret_id: secretId })
              .update({ [column]: original[column] });
          }
        },
      ),
      { numRuns: 60 },
    );
    expect((await store.read(workspaceId, secretId)).toString()).toBe('svc-credential-123');
  });

  it('T7: a secret cannot be read from another workspace, nor decrypted after being moved to another row or workspace', async () => {
    const a = await seedWorkspace(superuser);
    const b = await seedWorkspace(superuser);
    const secretA = await store.put({
      workspaceId: a.workspaceId,
      integrationId: null,
      kind: 'service-account',
      plaintext: 'secret-of-a',
      state: 'current',
    });
    const secretB = await store.put({
      workspaceId: b.workspaceId,
      integrationId: null,
      kind: 'service-account',
      plaintext: 'secret-of-b',
      state: 'current',
    });
    // RLS: workspace B does not see A's row at all.
    await expect(store.read(b.workspaceId, secretA.secretId)).rejects.toBeInstanceOf(SecretNotFoundError);

    // A's key material copied into B's row (same kind and version): the AAD no longer matches.
    const material = await superuser('secrets')
      .select('kek_id', 'wrapped_dek', 'iv', 'auth_tag', 'ciphertext')
      .where({ secret_id: secretA.secretId })
      .first();
    const ownMaterial = await superuser('secrets')
      .select('kek_id', 'wrapped_dek', 'iv', 'auth_tag', 'ciphertext')
      .where({ secret_id: secretB.secretId })
      .first();
    await superuser('secrets').where({ secret_id: secretB.secretId }).update(material);
    await expect(store.read(b.workspaceId, secretB.secretId)).rejects.toBeInstanceOf(IntegrityError);
    await superuser('secrets').where({ secret_id: secretB.secretId }).update(ownMaterial);

    // A's whole row re-homed into workspace B.
    await superuser('secrets')
      .where({ secret_id: secretA.secretId })
      .update({ workspace_id: b.workspaceId, state: 'previous' });
    await expect(store.read(b.workspaceId, secretA.secretId)).rejects.toBeInstanceOf(IntegrityError);
    expect((await store.read(b.workspaceId, secretB.secretId)).toString()).toBe('secret-of-b');
  });

  it('T6: 1,000 canary secrets leave no plaintext in a dump of the database', async () => {
    const { workspaceId, integrationId } = await seedWorkspace(superuser);
    const canaries = Array.from({ length: 1000 }, () => `canary-${crypto.randomBytes(12).toString('hex')}`);
    const ids: string[] = [];
    for (let i = 0; i < canaries.length; i += 50) {
      const batch = await Promise.all(
        canaries.slice(i, i + 50).map((plaintext, j) =>
          store.put({
            workspaceId,
            integrationId: j % 2 ? integrationId : null,
            kind: j % 2 ? 'webhook-secret' : 'app-private-key',
            plaintext,
            state: 'pending',
          }),
        ),
      );
      ids.push(...batch.map((r) => r.secretId));
    }
    const dump = await dumpDatabase();
    expect(dump.text).toContain(ids[0]); // the dump really holds the secrets table
    const hits = canaries.filter(
      (c) =>
        dump.text.includes(c) ||
        dump.text.includes(Buffer.from(c).toString('hex')) ||
        dump.text.includes(Buffer.from(c).toString('base64')),
    );
    process.stdout.write(
      `T6 canary dump via ${dump.method}: ${dump.text.length} chars, ${hits.length} plaintext hits for ${canaries.length} canaries\n`,
    );
    expect(hits).toEqual([]);
    expect((await store.read(workspaceId, ids[999]!)).toString()).toBe(canaries[999]);
  });

  it('T8: KEK rotation re-wraps every data key in verified batches, changes kek_id and keeps every secret readable', async () => {
    // Rotation acts on every workspace's secrets: a database of its own keeps other files' keys out of it.
    const isolated = await createIsolatedDatabase('rewrap');
    try {
      const oldKek = kek();
      const oldKeys = new LocalKeyProvider([oldKek]);
      const { workspaceId, integrationId } = await seedIntegration(isolated.superuser);
      const oldStore = new SecretStore(isolated.worker, oldKeys);
      const written = [];
      for (let i = 0; i < 12; i += 1) {
        const plaintext = `rotate-me-${i}`;
        written.push({
          plaintext,
          ...(await oldStore.put({ workspaceId, integrationId, kind: 'oauth-tokens', plaintext, state: 'pending' })),
        });
      }
      const ids = written.map((w) => w.secretId);
      const before = await isolated
        .superuser('secrets')
        .whereIn('secret_id', ids)
        .select('secret_id', 'ciphertext', 'wrapped_dek');
      const newKek = kek();
      const rotatedKeys = new LocalKeyProvider([newKek, oldKek]);
      const target = { rotationId: 'test/rewrap', targetKeyId: localKeyId(newKek), limit: 5 };
      // Committed batches of 5: 5 + 5 + 2, each recorded with its count.
      const batches = [];
      for (let remaining = 1; remaining > 0;) {
        const batch = await rewrapBatch(isolated.worker, rotatedKeys, target);
        batches.push(batch);
        remaining = batch.remaining;
      }
      expect(batches).toEqual([
        { rewrapped: 5, remaining: 7 },
        { rewrapped: 5, remaining: 2 },
        { rewrapped: 2, remaining: 0 },
      ]);
      expect(await kekUsage(isolated.worker)).toEqual([{ keyId: localKeyId(newKek), secrets: 12 }]);
      const log = await isolated.superuser('kek_rotation_log').where({ rotation_id: target.rotationId }).orderBy('id');
      expect(log.map((entry) => [entry.event, entry.key_id, entry.secrets])).toEqual([
        ['rewrapped', localKeyId(newKek), 5],
        ['rewrapped', localKeyId(newKek), 5],
        ['rewrapped', localKeyId(newKek), 2],
      ]);
      const after = await isolated
        .superuser('secrets')
        .whereIn('secret_id', ids)
        .select('secret_id', 'kek_id', 'ciphertext', 'wrapped_dek');
      for (const row of after) {
        const previous = before.find((b) => b.secret_id === row.secret_id)!;
        expect(row.kek_id).toBe(localKeyId(newKek));
        expect(row.ciphertext.equals(previous.ciphertext)).toBe(true); // payload never re-encrypted
        expect(row.wrapped_dek.equals(previous.wrapped_dek)).toBe(false);
      }
      // Readable with the new key alone: the old KEK can be dropped.
      const newOnly = new SecretStore(isolated.worker, new LocalKeyProvider([newKek]));
      for (const w of written) expect((await newOnly.read(workspaceId, w.secretId)).toString()).toBe(w.plaintext);
      await expect(new SecretStore(isolated.worker, oldKeys).read(workspaceId, written[0]!.secretId)).rejects.toThrow(
        /not available/,
      );
      // The log is append-only, for the worker and the owner alike.
      await expect(isolated.worker('kek_rotation_log').update({ secrets: 0 })).rejects.toThrow();
    } finally {
      await isolated.drop();
    }
  });

  it('T8: a DEK under a KEK the provider does not hold stops the batch, and nothing of the batch is written', async () => {
    const isolated = await createIsolatedDatabase('rewrap');
    try {
      const { workspaceId, integrationId } = await seedIntegration(isolated.superuser);
      const lost = new LocalKeyProvider([kek()]);
      await new SecretStore(isolated.worker, lost).put({
        workspaceId,
        integrationId,
        kind: 'oauth-tokens',
        plaintext: 'orphan',
        state: 'current',
      });
      const held = new LocalKeyProvider([kek()]);
      await expect(
        rewrapBatch(isolated.worker, held, { rotationId: 'test/lost', targetKeyId: await held.currentKeyId() }),
      ).rejects.toBeInstanceOf(UnknownKeyError);
      expect(await kekUsage(isolated.worker)).toEqual([{ keyId: await lost.currentKeyId(), secrets: 1 }]);
      expect(await isolated.superuser('kek_rotation_log').count({ n: '*' })).toEqual([{ n: '0' }]);
    } finally {
      await isolated.drop();
    }
  });

  it('T6: the development KEK is generated once, owner-only, and reused', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kek-'));
    try {
      const first = localKeyProviderFromConfig({ env: 'development', dataDir, secrets: {} });
      const second = localKeyProviderFromConfig({ env: 'development', dataDir, secrets: {} });
      expect(await second.currentKeyId()).toBe(await first.currentKeyId());
      expect(fs.statSync(path.join(dataDir, 'secrets-kek')).mode & 0o777).toBe(0o600);
      expect(() => localKeyProviderFromConfig({ env: 'production', dataDir, secrets: {} })).toThrow(
        /required in production/,
      );
      const configured = localKeyProviderFromConfig({
        env: 'production',
        dataDir,
        secrets: { localKek: firstKek.toString('base64') },
      });
      expect(await configured.currentKeyId()).toBe(await keys.currentKeyId());
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

/**
 * pg_dump of the test database when the installed pg_dump can dump this server; otherwise (the
 * system pg_dump is older than the embedded server and refuses) every table of schema public read
 * by the superuser as text, bytea in hex, which is what pg_dump would print.
 */
async function dumpDatabase(): Promise<{ method: string; text: string }> {
  const url = new URL(testStack().database.superuserUrl);
  url.pathname = '/integrations';
  try {
    const { stdout } = await run('/usr/bin/pg_dump', ['--data-only', url.toString()], { maxBuffer: 512 * 1024 * 1024 });
    return { method: 'pg_dump', text: stdout };
  } catch (error) {
    if (!/server version mismatch|ENOENT/.test(String((error as { stderr?: string }).stderr ?? error))) throw error;
  }
  const db = superuserDb();
  try {
    const tables: string[] = (
      await db.raw(`select tablename from pg_tables where schemaname = 'public' order by 1`)
    ).rows.map((r: { tablename: string }) => r.tablename);
    const parts: string[] = [];
    for (const table of tables) {
      const { rows } = await db.raw(`select t::text as line from ?? t`, [table]);
      parts.push(`-- ${table}\n${rows.map((r: { line: string }) => r.line).join('\n')}`);
    }
    return { method: 'superuser table scan (pg_dump 15 cannot dump the Postgres 18 server)', text: parts.join('\n') };
  } finally {
    await db.destroy();
  }
}
