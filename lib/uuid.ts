/**
 * UUIDs in their RFC 9562 text form only: no `urn:uuid:` prefix, braces or missing dashes, which
 * JSON-schema `format: uuid` validators let through and Postgres then refuses.
 */

/** Lower case: how this service writes every UUID (ids, run ids, search attributes, OAuth states). */
export const CANONICAL_UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';

/** Either case, as callers may send it: UUIDs compare case-insensitively, so both name the same thing. */
export const UUID_ANY_CASE = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';

const UUID_TEXT = new RegExp(`^${UUID_ANY_CASE}$`);

/** The canonical (lower-case) spelling of a UUID in either case; anything else unchanged. */
export function canonicalUuid(value: string): string {
  return UUID_TEXT.test(value) ? value.toLowerCase() : value;
}
