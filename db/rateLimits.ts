/**
 * The Postgres side of the API's shared rate limits (`rate_limit_consume`, migration 0006). Keys
 * are hashed here, before they leave the process: the table holds no subject or workspace id.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';

/** One bucket's use to add to the shared store. `key` is `caller:<subject>` or `workspace:<id>`. */
export interface BucketUse {
  key: string;
  used: number;
  capacity: number;
  refillPerSecond: number;
}

export interface RateLimitStore {
  /** Adds each use to its shared bucket (refilled at its rate, capped at capacity) and answers the tokens left, by key. */
  consume(uses: BucketUse[]): Promise<Map<string, number>>;
}

/** The stored form of a bucket key: its SHA-256, hex. */
export const hashBucketKey = (key: string): string => crypto.createHash('sha256').update(key).digest('hex');

export function createPostgresRateLimitStore(db: Knex): RateLimitStore {
  return {
    async consume(uses: BucketUse[]): Promise<Map<string, number>> {
      const hashed = uses
        .map((use) => ({ ...use, hex: hashBucketKey(use.key) }))
        .sort((a, b) => (a.hex < b.hex ? -1 : a.hex > b.hex ? 1 : 0));
      const { rows } = await db.raw<{ rows: Array<{ key_hex: string; tokens_left: number }> }>(
        'select key_hex, tokens_left from rate_limit_consume(?::text[], ?::integer[], ?::double precision[], ?::double precision[])',
        [
          hashed.map((use) => use.hex),
          hashed.map((use) => use.used),
          hashed.map((use) => use.capacity),
          hashed.map((use) => use.refillPerSecond),
        ],
      );
      const byHex = new Map(rows.map((row) => [row.key_hex, Number(row.tokens_left)]));
      return new Map(hashed.map((use) => [use.key, byHex.get(use.hex)!]));
    },
  };
}
