import type { Knex } from 'knex';

class Rollback extends Error {}

/** Runs `work` in a transaction that is always rolled back (catalog experiments leave nothing behind). */
export async function inRolledBackTransaction(db: Knex, work: (trx: Knex.Transaction) => Promise<void>): Promise<void> {
  await db
    .transaction(async (trx) => {
      await work(trx);
      throw new Rollback();
    })
    .catch((error: unknown) => {
      if (!(error instanceof Rollback)) throw error;
    });
}
