/**
 * KEK rotation: re-wraps every data key still wrapped by an older KEK under the provider's current
 * KEK. Payloads are never decrypted; DEKs exist in memory for the length of one re-wrap and are
 * zeroed after. Runs as the owner (secrets of every workspace) under the owner-only `kek_rotation`
 * policy, in committed batches so a large rotation is resumable and holds no long locks.
 */
import type { Knex } from 'knex';
import type { KeyProvider } from './keyProvider';
import { bindingAad, type SecretBinding } from './secretStore';

/** Rows per transaction: bounded lock time and memory; a KMS round-trip per row dominates anyway. */
export const REWRAP_BATCH = 500;

/**
 * `fromKeyIds` narrows the rotation to DEKs under those KEKs (retiring one compromised key); by
 * default every DEK not yet under `newKeyId` is re-wrapped, and a DEK under a KEK the provider does
 * not hold stops the rotation with `UnknownKeyError` rather than being skipped.
 */
export async function rewrapAll(
  ownerDb: Knex,
  keys: KeyProvider,
  newKeyId: string,
  options: { fromKeyIds?: string[] } = {},
): Promise<{ rewrapped: number }> {
  if (keys.currentKeyId() !== newKeyId) throw new Error(`key provider's current key is not ${newKeyId}`);
  let rewrapped = 0;
  for (;;) {
    const done = await ownerDb.transaction(async (trx) => {
      await trx.raw(`select set_config('app.kek_rotation', 'on', true)`);
      const rows = await trx('secrets')
        .select<(SecretBinding & { kek_id: string; wrapped_dek: Buffer })[]>(
          'secret_id',
          'workspace_id',
          'integration_id',
          'kind',
          'version',
          'kek_id',
          'wrapped_dek',
        )
        .whereNot({ kek_id: newKeyId })
        .whereNotNull('kek_id')
        .modify((q) => (options.fromKeyIds ? q.whereIn('kek_id', options.fromKeyIds) : q))
        .orderBy('secret_id')
        .limit(REWRAP_BATCH)
        .forUpdate();
      for (const row of rows) {
        const aad = bindingAad(row, 'dek');
        const dek = await keys.unwrapKey(row.kek_id, row.wrapped_dek, aad);
        try {
          const wrapped = await keys.wrapKey(dek, aad);
          await trx('secrets')
            .where({ secret_id: row.secret_id })
            .update({ kek_id: wrapped.keyId, wrapped_dek: wrapped.wrapped });
        } finally {
          dek.fill(0);
        }
      }
      return rows.length;
    });
    rewrapped += done;
    if (done < REWRAP_BATCH) return { rewrapped };
  }
}
