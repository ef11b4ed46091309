/**
 * The workspace audit log (T10, T24): append-only, gapless per workspace, hash-chained.
 *
 * Entry n stores `hash = sha256(prev_hash ‖ canonical(entry n))` with `prev_hash` = hash of entry
 * n-1 (32 zero bytes before the first, or the retention horizon's hash after retention). Writers
 * of one workspace serialise on a transaction-scoped advisory lock, so concurrent inserts extend
 * the chain one after the other; a trigger refuses any row that does not extend the head.
 *
 * Entries are typed and every field is validated: ids are short and from a narrow charset, and
 * anything that looks like a token, a JWT or an e-mail address is refused, so payloads and
 * credentials cannot end up in the log by accident.
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import type { AuditDirection, AuditEntry, AuditOutcome, AuditSink } from '../lib/audit';
import { BIGINT_CURSOR } from './ledgers';
import { withWorkspace } from './workspaceScope';

const ACTOR_TYPES = ['user', 'service', 'workflow', 'vendor', 'system'] as const;
const DIRECTIONS: readonly AuditDirection[] = ['inbound', 'outbound', 'internal'];
const OUTCOMES: readonly AuditOutcome[] = ['success', 'failure', 'denied'];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Opaque ids (JWT subjects like `auth0|123`, workflow ids, request ids): 200 chars covers all we issue. */
const ID = /^[A-Za-z0-9._:|@/+=-]{1,200}$/;
const ACTION = /^[a-z][a-z0-9._:-]{0,99}$/i;
const ERROR_CLASS = /^[A-Za-z][A-Za-z0-9_.]{0,99}$/;
/**
 * Scopes are space-separated tokens, some of them URLs (Graph), or a permission the matrix names in
 * words, commas included (Procore). Long scope lists stay under 2,000.
 */
const SCOPE = /^[A-Za-z0-9._:/+=,\- ]{1,2000}$/;

/** What credentials and personal data look like; none of it belongs in an audit entry. */
const SENSITIVE_PATTERNS: RegExp[] = [
  /eyJ[A-Za-z0-9_-]{5,}\./, // JWT / JWS header
  /\b(gh[pousr]_|github_pat_|xox[abprs]-|sk-|AKIA)[A-Za-z0-9_]/, // well-known token prefixes
  // E-mail address. One character before the @ is enough for `test`, and `[^@\s]+@` would rescan
  // the rest of the value from every position of an id without an @ (quadratic).
  /[^@\s]@[^@\s]+\.[A-Za-z]{2,}/,
  /[A-Za-z0-9+/=_]{32,}/, // long unbroken base64/hex run: a key or token, not an id (UUIDs have dashes)
  /bearer\s/i,
];

/** Marks an actor id that is a keyed hash of the subject, not the subject itself. */
const HASHED_SUBJECT_PREFIX = 'h:';

/**
 * The HMAC key for subjects the log cannot hold verbatim, derived from server key material (HKDF,
 * with its own label so the hash reveals nothing about the material's other uses).
 */
export function deriveAuditSubjectKey(material: Buffer): Buffer {
  return Buffer.from(crypto.hkdfSync('sha256', material, Buffer.alloc(0), 'trackproject-audit-subject/v1', 32));
}

/**
 * The actor id the audit log stores for a caller's subject: the subject itself when it is a plain
 * opaque id, else (e-mail shapes, spaces, `#`, long runs such as Entra object ids or
 * `<clientId>@clients`, or anything already shaped like a hash) `h:` and HMAC-SHA-256 under `key`.
 * The same subject always maps to the same id, so one caller's entries still line up; dashes keep
 * every hex group under the long-run pattern the validator refuses.
 */
export function auditSubjectId(subject: string, key: Buffer): string {
  const verbatim =
    !subject.startsWith(HASHED_SUBJECT_PREFIX) && ID.test(subject) && !SENSITIVE_PATTERNS.some((p) => p.test(subject));
  if (verbatim) return subject;
  const mac = crypto.createHmac('sha256', key).update(subject, 'utf8').digest('hex');
  return `${HASHED_SUBJECT_PREFIX}${mac.match(/.{16}/g)!.join('-')}`;
}

export class AuditEntryRejectedError extends Error {
  constructor(readonly field: string) {
    // The value is never echoed: it is exactly what must not be logged.
    super(`audit entry refused: field ${field} is not a valid identifier or looks like sensitive data`);
    this.name = 'AuditEntryRejectedError';
  }
}

interface AuditRowFields {
  workspace_id: string;
  actor_type: string;
  actor_id: string;
  direction: string;
  vendor: string | null;
  integration_id: string | null;
  action: string;
  scope: string | null;
  outcome: string;
  error_class: string | null;
  request_id: string | null;
  workflow_id: string | null;
}

function checked(
  field: string,
  value: string | undefined,
  pattern: RegExp,
  allowSensitiveShape = false,
): string | null {
  if (value === undefined) return null;
  if (!pattern.test(value)) throw new AuditEntryRejectedError(field);
  if (!allowSensitiveShape && SENSITIVE_PATTERNS.some((p) => p.test(value))) throw new AuditEntryRejectedError(field);
  return value;
}

function oneOf<T extends string>(field: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) throw new AuditEntryRejectedError(field);
  return value as T;
}

export function validateAuditEntry(entry: AuditEntry): AuditRowFields {
  if (!UUID.test(entry.workspaceId)) throw new AuditEntryRejectedError('workspaceId');
  return {
    workspace_id: entry.workspaceId.toLowerCase(),
    actor_type: oneOf('actor.type', entry.actor.type, ACTOR_TYPES),
    actor_id: checked('actor.id', entry.actor.id, ID)!,
    direction: oneOf('direction', entry.direction, DIRECTIONS),
    vendor: checked('vendor', entry.vendor, ID),
    integration_id: checked('integrationId', entry.integrationId, UUID, true)?.toLowerCase() ?? null,
    action: checked('action', entry.action, ACTION)!,
    // Scopes are vendor-defined strings (URLs included); the charset bounds them, the token shapes still apply.
    scope: checked('scope', entry.scope, SCOPE),
    outcome: oneOf('outcome', entry.outcome, OUTCOMES),
    error_class: checked('errorClass', entry.errorClass, ERROR_CLASS),
    request_id: checked('requestId', entry.requestId, ID),
    workflow_id: checked('workflowId', entry.workflowId, ID),
  };
}

/**
 * Canonical, order-fixed serialisation of what the hash covers (every column but id, prev_hash,
 * hash): a JSON array with `seq` third. Split around `seq` because the appender learns the number
 * only under the workspace's lock, inside the database (`audit_log_append`, migration 0004).
 */
function canonicalAroundSeq(fields: AuditRowFields, createdAt: Date): { prefix: string; suffix: string } {
  const head = JSON.stringify(['trackproject-audit/v1', fields.workspace_id]);
  const tail = JSON.stringify([createdAt.toISOString(), ...chainedValues(fields)]);
  // seq is a decimal string, so it needs no escaping between the quotes.
  return { prefix: `${head.slice(0, -1)},"`, suffix: `",${tail.slice(1)}` };
}

/** The columns after `created_at`, in hash order; `audit_log_append` takes its parameters in the same order. */
const CHAINED_COLUMNS = [
  'actor_type',
  'actor_id',
  'direction',
  'vendor',
  'integration_id',
  'action',
  'scope',
  'outcome',
  'error_class',
  'request_id',
  'workflow_id',
] as const;

function chainedValues(fields: AuditRowFields): Array<string | null> {
  return CHAINED_COLUMNS.map((column) => fields[column]);
}

function chainHash(prevHash: Buffer, fields: AuditRowFields, seq: string, createdAt: Date): Buffer {
  const { prefix, suffix } = canonicalAroundSeq(fields, createdAt);
  return crypto.createHash('sha256').update(prevHash).update(`${prefix}${seq}${suffix}`, 'utf8').digest();
}

/** Two bound values (workspace, created_at), the chained columns, the canonical prefix and suffix. */
const APPEND_SQL = `select audit_log_append(${Array.from({ length: 2 + CHAINED_COLUMNS.length + 2 }, () => '?').join(', ')})`;

export function createAuditLog(db: Knex): AuditSink {
  return {
    async record(entry) {
      const fields = validateAuditEntry(entry);
      const createdAt = new Date();
      const { prefix, suffix } = canonicalAroundSeq(fields, createdAt);
      // One statement: bind the workspace, take its chain lock, read the head, insert (migration 0004).
      // Named, so each connection parses and plans it once rather than once per entry.
      const params = [fields.workspace_id, createdAt, ...chainedValues(fields), prefix, suffix];
      await db.raw(APPEND_SQL, params).options({ name: 'audit_log_append' });
    },
  };
}

interface StoredAuditRow extends AuditRowFields {
  seq: string;
  created_at: Date;
  prev_hash: Buffer;
  hash: Buffer;
}

const AUDIT_COLUMNS = ['seq', 'created_at', 'workspace_id', ...CHAINED_COLUMNS, 'prev_hash', 'hash'] as const;

/** Rows read per round trip while verifying: bounded memory for long chains. */
const VERIFY_PAGE = 1000;

export type AuditChainVerdict = { ok: true; count: number } | { ok: false; brokenAtSeq: string };

/** Recomputes the workspace's chain from its start (or retention horizon) and names the first broken link. */
export async function verifyAuditChain(db: Knex, workspaceId: string): Promise<AuditChainVerdict> {
  return withWorkspace(db, workspaceId, async (trx) => {
    const horizon = await trx('audit_retention_horizon').select('through_seq', 'last_hash').first();
    let expectedSeq = BigInt(horizon?.through_seq ?? 0) + 1n;
    let expectedPrev: Buffer = horizon?.last_hash ?? Buffer.alloc(32);
    let count = 0;
    for (;;) {
      const page = await trx('audit_log')
        .select<StoredAuditRow[]>(AUDIT_COLUMNS)
        .where('seq', '>=', expectedSeq.toString())
        .orderBy('seq', 'asc')
        .limit(VERIFY_PAGE);
      for (const row of page) {
        const brokenAt = BigInt(row.seq) !== expectedSeq ? expectedSeq : undefined;
        if (brokenAt !== undefined) return { ok: false, brokenAtSeq: brokenAt.toString() };
        const intact =
          row.prev_hash.equals(expectedPrev) && row.hash.equals(chainHash(row.prev_hash, row, row.seq, row.created_at));
        if (!intact) return { ok: false, brokenAtSeq: row.seq };
        expectedPrev = row.hash;
        expectedSeq += 1n;
        count += 1;
      }
      if (page.length < VERIFY_PAGE) return { ok: true, count };
    }
  });
}

export interface AuditFilters {
  action?: string;
  vendor?: string;
  outcome?: AuditOutcome;
  direction?: AuditDirection;
  integrationId?: string;
  actorId?: string;
  from?: Date;
  to?: Date;
}

export interface AuditListEntry {
  seq: string;
  createdAt: string;
  actor: { type: string; id: string };
  direction: string;
  vendor: string | null;
  integrationId: string | null;
  action: string;
  scope: string | null;
  outcome: string;
  errorClass: string | null;
  requestId: string | null;
  workflowId: string | null;
  hash: string;
}

/** Largest page the API may ask for. */
export const MAX_AUDIT_PAGE = 500;

export class InvalidAuditCursorError extends Error {
  constructor() {
    super('invalid audit cursor');
    this.name = 'InvalidAuditCursorError';
  }
}

/**
 * Newest first, keyset-paginated by seq: `nextCursor` is the seq below which the next page starts
 * (stable under concurrent appends, unlike offsets).
 */
export async function listAudit(
  db: Knex,
  workspaceId: string,
  query: { cursor?: string; limit: number; filters?: AuditFilters },
): Promise<{ entries: AuditListEntry[]; nextCursor: string | null }> {
  if (query.cursor !== undefined && !BIGINT_CURSOR.test(query.cursor)) throw new InvalidAuditCursorError();
  const limit = Math.max(1, Math.min(MAX_AUDIT_PAGE, Math.floor(query.limit)));
  const f = query.filters ?? {};
  const rows = await withWorkspace(db, workspaceId, (trx) => {
    const q = trx('audit_log')
      .select<StoredAuditRow[]>(AUDIT_COLUMNS)
      .orderBy('seq', 'desc')
      .limit(limit + 1);
    if (query.cursor !== undefined) q.where('seq', '<', query.cursor);
    if (f.action !== undefined) q.where('action', f.action);
    if (f.vendor !== undefined) q.where('vendor', f.vendor);
    if (f.outcome !== undefined) q.where('outcome', f.outcome);
    if (f.direction !== undefined) q.where('direction', f.direction);
    if (f.integrationId !== undefined) q.where('integration_id', f.integrationId);
    if (f.actorId !== undefined) q.where('actor_id', f.actorId);
    if (f.from !== undefined) q.where('created_at', '>=', f.from);
    if (f.to !== undefined) q.where('created_at', '<', f.to);
    return q;
  });
  const page = rows.slice(0, limit);
  return {
    entries: page.map((row) => ({
      seq: row.seq,
      createdAt: row.created_at.toISOString(),
      actor: { type: row.actor_type, id: row.actor_id },
      direction: row.direction,
      vendor: row.vendor,
      integrationId: row.integration_id,
      action: row.action,
      scope: row.scope,
      outcome: row.outcome,
      errorClass: row.error_class,
      requestId: row.request_id,
      workflowId: row.workflow_id,
      hash: row.hash.toString('hex'),
    })),
    nextCursor: rows.length > limit ? page[page.length - 1]!.seq : null,
  };
}
