/**
 * KEK rotation, the database side: re-wraps the data keys still wrapped by an older KEK under the
 * rotation's target KEK, in committed batches (resumable: a crash loses at most the batch in
 * flight, whose transaction rolls back), each verified before it is written and recorded in
 * `kek_rotation_log` in the same transaction. Payloads are never decrypted; a DEK exists in memory
 * for the length of one re-wrap and is zeroed after. Runs in the worker role through the SECURITY
 * DEFINER functions of migration 0011 (secrets of every workspace).
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { IntegrityError } from '../../lib/aesGcm';
import type { KeyProvider, KeyRetirement } from './keyProvider';
import { dekContext, type SecretBinding } from './secretStore';

/** Rows per transaction: bounded lock time and memory; three KMS round-trips per row dominate anyway. */
export const REWRAP_BATCH = 200;

/** The provider's current KEK moved while a rotation was re-wrapping onto another one. */
export class KekChangedError extends Error {
  constructor(
    readonly targetKeyId: string,
    readonly currentKeyId: string,
  ) {
    super(`the current key-encryption key is ${currentKeyId}, not the rotation's target ${targetKeyId}`);
    this.name = 'KekChangedError';
  }
}

export interface KekUsage {
  keyId: string;
  secrets: number;
}

/** How many live DEKs each KEK wraps, across workspaces (ids and counts only). */
export async function kekUsage(db: Knex | Knex.Transaction): Promise<KekUsage[]> {
  const { rows } = await db.raw<{ rows: { kek_id: string; secrets: string }[] }>(`select * from kek_usage()`);
  return rows.map((row) => ({ keyId: row.kek_id, secrets: Number(row.secrets) }));
}

export type RotationEvent =
  | { event: 'started'; keyId: string; replacedKeyId: string }
  | { event: 'rewrapped'; keyId: string; secrets: number }
  | { event: 'verified'; keyId: string; secrets: number }
  | { event: 'key-retired'; keyId: string; outcome: KeyRetirement }
  | { event: 'completed'; keyId: string };

export async function recordRotationEvent(
  db: Knex | Knex.Transaction,
  rotationId: string,
  provider: string,
  entry: RotationEvent,
): Promise<void> {
  await db('kek_rotation_log').insert({
    rotation_id: rotationId,
    provider,
    event: entry.event,
    key_id: entry.keyId,
    replaced_key_id: entry.event === 'started' ? entry.replacedKeyId : null,
    secrets: entry.event === 'rewrapped' || entry.event === 'verified' ? entry.secrets : null,
    outcome: entry.event === 'key-retired' ? entry.outcome : null,
  });
}

/** The target and replaced KEK a rotation recorded when it started, if it did. */
export async function startedRotation(
  db: Knex,
  rotationId: string,
): Promise<{ keyId: string; replacedKeyId: string } | undefined> {
  const row = await db('kek_rotation_log')
    .where({ rotation_id: rotationId, event: 'started' })
    .first<{ key_id: string; replaced_key_id: string } | undefined>('key_id', 'replaced_key_id');
  return row ? { keyId: row.key_id, replacedKeyId: row.replaced_key_id } : undefined;
}

type ClaimedRow = SecretBinding & { kek_id: string; wrapped_dek: Buffer };

/** Unwrap, re-wrap under the target, and prove the new wrap opens to the same DEK before it is stored. */
async function rewrapRow(keys: KeyProvider, row: ClaimedRow, targetKeyId: string): Promise<Buffer> {
  const context = dekContext(row);
  const dek = await keys.unwrapKey(row.kek_id, row.wrapped_dek, context);
  let check: Buffer | undefined;
  try {
    const wrapped = await keys.wrapKey(dek, context);
    if (wrapped.keyId !== targetKeyId) throw new KekChangedError(targetKeyId, wrapped.keyId);
    check = await keys.unwrapKey(wrapped.keyId, wrapped.wrapped, context);
    if (check.length !== dek.length || !crypto.timingSafeEqual(check, dek))
      throw new IntegrityError('re-wrapped data key');
    return wrapped.wrapped;
  } finally {
    dek.fill(0);
    check?.fill(0);
  }
}

/**
 * One committed batch: claims up to `limit` DEKs not under `targetKeyId`, re-wraps and verifies
 * each, and records the batch. `remaining` counts the DEKs still under other KEKs afterwards.
 */
export async function rewrapBatch(
  db: Knex,
  keys: KeyProvider,
  input: { rotationId: string; targetKeyId: string; limit?: number },
): Promise<{ rewrapped: number; remaining: number }> {
  const rewrapped = await db.transaction(async (trx) => {
    const { rows } = await trx.raw<{ rows: ClaimedRow[] }>(`select * from kek_rewrap_claim(?, ?)`, [
      input.targetKeyId,
      input.limit ?? REWRAP_BATCH,
    ]);
    for (const row of rows) {
      const wrapped = await rewrapRow(keys, row, input.targetKeyId);
      await trx.raw(`select kek_rewrap_apply(?, ?, ?, ?)`, [row.secret_id, row.kek_id, input.targetKeyId, wrapped]);
    }
    if (rows.length > 0) {
      await recordRotationEvent(trx, input.rotationId, keys.kind, {
        event: 'rewrapped',
        keyId: input.targetKeyId,
        secrets: rows.length,
      });
    }
    return rows.length;
  });
  const usage = await kekUsage(db);
  const remaining = usage.filter((u) => u.keyId !== input.targetKeyId).reduce((sum, u) => sum + u.secrets, 0);
  return { rewrapped, remaining };
}
