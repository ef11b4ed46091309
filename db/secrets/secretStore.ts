/**
 * Envelope-encrypted secret store (T6, T7, T8). Each secret version gets a fresh 256-bit data key
 * (DEK); the payload is sealed with AES-256-GCM under the DEK, and the DEK is wrapped by the key
 * provider's KEK. Both layers bind the row's identity (secret id, workspace, integration, kind,
 * version) as additional authenticated data, so ciphertext copied to another row or workspace
 * fails to open. Plaintext exists only in memory, only for the caller of `read`.
 *
 * Lifecycle per (workspace, integration, kind): put a `pending` version, `promote` it (the old
 * `current` becomes `previous`, the old `previous` is `retired`), `retire` explicitly, and
 * `destroyForIntegration` on disconnect (key material nulled, state `destroyed`).
 */
import crypto from 'node:crypto';
import type { Knex } from 'knex';
import { withWorkspace } from '../workspaceScope';
import { open, seal } from '../../lib/aesGcm';
import type { EncryptionContext, KeyProvider } from './keyProvider';

export const SECRET_KINDS = [
  'oauth-tokens',
  'pkce-verifier',
  'service-account',
  'webhook-secret',
  'app-private-key',
  // SAML sign-in at connect: the IdP metadata the admin supplied, and a posted response until validated.
  'saml-idp-metadata',
  'saml-response',
] as const;
export type SecretKind = (typeof SECRET_KINDS)[number];
export type SecretState = 'pending' | 'current' | 'previous' | 'retired' | 'destroyed';

/** What travels instead of a secret: its id and lifecycle facts, never its value. */
export interface SecretRef {
  secretId: string;
  version: number;
  state: SecretState;
  expiresAt: Date | null;
}

/** Secrets larger than this are not credentials (a PEM private key is ~3 KB). */
export const MAX_SECRET_BYTES = 64 * 1024;

/** States whose plaintext may still be used: `previous` covers the overlap window of a rotation. */
const READABLE_STATES: readonly SecretState[] = ['pending', 'current', 'previous'];
/** The readable states in the order a receiver tries them: what the vendor most likely signs with first. */
const VERIFY_ORDER: readonly SecretState[] = ['current', 'pending', 'previous'];

export class SecretNotFoundError extends Error {
  constructor(readonly secretId: string) {
    super(`secret ${secretId} not found in this workspace`);
    this.name = 'SecretNotFoundError';
  }
}

export class SecretStateError extends Error {
  constructor(
    readonly secretId: string | undefined,
    message: string,
  ) {
    super(message);
    this.name = 'SecretStateError';
  }
}

/** The row identity both encryption layers are bound to. */
export interface SecretBinding {
  secret_id: string;
  workspace_id: string;
  integration_id: string | null;
  kind: string;
  version: number;
}

/** Canonical AAD of the payload seal. */
export function payloadAad(row: SecretBinding): Buffer {
  return Buffer.from(
    JSON.stringify([
      'trackproject-secret/v1',
      'payload',
      row.secret_id,
      row.workspace_id,
      row.integration_id,
      row.kind,
      row.version,
    ]),
    'utf8',
  );
}

/** The DEK's encryption context: the same binding, as the KMS sees it (ids only: CloudTrail logs it). */
export function dekContext(row: SecretBinding): EncryptionContext {
  return {
    purpose: 'trackproject-secret/v1',
    workspace_id: row.workspace_id,
    integration_id: row.integration_id ?? 'none',
    secret_id: row.secret_id,
    kind: row.kind,
    version: String(row.version),
  };
}

interface StoredSecret extends SecretBinding {
  state: SecretState;
  kek_id: string;
  wrapped_dek: Buffer;
  iv: Buffer;
  auth_tag: Buffer;
  ciphertext: Buffer;
}

const REF_COLUMNS = ['secret_id', 'version', 'state', 'expires_at'] as const;

function toRef(row: { secret_id: string; version: number; state: SecretState; expires_at: Date | null }): SecretRef {
  return { secretId: row.secret_id, version: row.version, state: row.state, expiresAt: row.expires_at };
}

function forIntegration(query: Knex.QueryBuilder, integrationId: string | null): Knex.QueryBuilder {
  return integrationId === null ? query.whereNull('integration_id') : query.where('integration_id', integrationId);
}

export class SecretStore {
  constructor(
    private readonly db: Knex,
    private readonly keys: KeyProvider,
  ) {}

  async put(input: {
    workspaceId: string;
    integrationId: string | null;
    kind: SecretKind;
    plaintext: Buffer | string;
    state: 'pending' | 'current';
    expiresAt?: Date;
  }): Promise<{ secretId: string; version: number }> {
    if (!SECRET_KINDS.includes(input.kind)) throw new SecretStateError(undefined, 'unknown secret kind');
    const plaintext = typeof input.plaintext === 'string' ? Buffer.from(input.plaintext, 'utf8') : input.plaintext;
    if (plaintext.length === 0 || plaintext.length > MAX_SECRET_BYTES)
      throw new SecretStateError(undefined, `a secret must be 1..${MAX_SECRET_BYTES} bytes`);
    const integrationId = input.integrationId ?? null;
    return withWorkspace(this.db, input.workspaceId, async (trx) => {
      // Versions are allocated per (workspace, integration, kind): serialise concurrent writers.
      await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [
        `secrets:${input.workspaceId}:${integrationId}:${input.kind}`,
      ]);
      const siblings = () => forIntegration(trx('secrets').where({ kind: input.kind }), integrationId);
      if (input.state === 'current' && (await siblings().where({ state: 'current' }).first('secret_id'))) {
        throw new SecretStateError(undefined, 'a current secret exists: put a pending version and promote it');
      }
      const { max } = (await siblings().max({ max: 'version' }).first()) as { max: number | null };
      const binding: SecretBinding = {
        secret_id: crypto.randomUUID(),
        workspace_id: input.workspaceId,
        integration_id: integrationId,
        kind: input.kind,
        version: (max ?? 0) + 1,
      };
      const dek = await this.keys.generateDataKey(dekContext(binding));
      try {
        const sealed = seal(dek.plaintext, plaintext, payloadAad(binding));
        await trx('secrets').insert({
          ...binding,
          state: input.state,
          kek_id: dek.keyId,
          wrapped_dek: dek.wrapped,
          iv: sealed.iv,
          auth_tag: sealed.authTag,
          ciphertext: sealed.ciphertext,
          expires_at: input.expiresAt ?? null,
          promoted_at: input.state === 'current' ? trx.fn.now() : null,
        });
      } finally {
        dek.plaintext.fill(0);
      }
      return { secretId: binding.secret_id, version: binding.version };
    });
  }

  /**
   * The plaintext of a pending, current or previous secret of this workspace; with `bound`, only
   * when it is that integration's secret of that kind (for an id that came in from outside).
   */
  async read(
    workspaceId: string,
    secretId: string,
    bound?: { integrationId: string; kind: SecretKind },
  ): Promise<Buffer> {
    const row = await withWorkspace(this.db, workspaceId, (trx) =>
      trx('secrets')
        .select<StoredSecret>(
          'secret_id',
          'workspace_id',
          'integration_id',
          'kind',
          'version',
          'state',
          'kek_id',
          'wrapped_dek',
          'iv',
          'auth_tag',
          'ciphertext',
        )
        .where({ secret_id: secretId, ...(bound ? { integration_id: bound.integrationId, kind: bound.kind } : {}) })
        .first(),
    );
    if (!row) throw new SecretNotFoundError(secretId);
    if (!READABLE_STATES.includes(row.state))
      throw new SecretStateError(secretId, `secret ${secretId} is ${row.state}`);
    const dek = await this.keys.unwrapKey(row.kek_id, row.wrapped_dek, dekContext(row));
    try {
      return open(dek, { iv: row.iv, authTag: row.auth_tag, ciphertext: row.ciphertext }, payloadAad(row), 'secret');
    } finally {
      dek.fill(0);
    }
  }

  async current(workspaceId: string, integrationId: string | null, kind: SecretKind): Promise<SecretRef | undefined> {
    const row = await withWorkspace(this.db, workspaceId, (trx) =>
      forIntegration(trx('secrets').select(REF_COLUMNS).where({ kind, state: 'current' }), integrationId).first(),
    );
    return row ? toRef(row) : undefined;
  }

  /**
   * The versions of a kind whose plaintext may be used, in the order a verifier should try them:
   * current, then pending (a rotation handing it to the vendor), then previous (its grace window).
   */
  async usable(workspaceId: string, integrationId: string | null, kind: SecretKind): Promise<SecretRef[]> {
    const rows: Parameters<typeof toRef>[0][] = await withWorkspace(this.db, workspaceId, (trx) =>
      forIntegration(
        trx('secrets').select(REF_COLUMNS).where({ kind }).whereIn('state', READABLE_STATES),
        integrationId,
      ).orderBy('version', 'desc'),
    );
    return rows
      .map(toRef)
      .sort((a: SecretRef, b: SecretRef) => VERIFY_ORDER.indexOf(a.state) - VERIFY_ORDER.indexOf(b.state));
  }

  /** pending → current in one transaction; the old current becomes previous, the old previous retired. */
  async promote(workspaceId: string, secretId: string): Promise<SecretRef> {
    return withWorkspace(this.db, workspaceId, async (trx) => {
      const target = await trx('secrets')
        .select('integration_id', 'kind', 'state')
        .where({ secret_id: secretId })
        .forUpdate()
        .first();
      if (!target) throw new SecretNotFoundError(secretId);
      if (target.state !== 'pending')
        throw new SecretStateError(
          secretId,
          `only a pending secret can be promoted (secret ${secretId} is ${target.state})`,
        );
      await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [
        `secrets:${workspaceId}:${target.integration_id}:${target.kind}`,
      ]);
      const siblings = () => forIntegration(trx('secrets').where({ kind: target.kind }), target.integration_id);
      await siblings().where({ state: 'previous' }).update({ state: 'retired', retired_at: trx.fn.now() });
      await siblings().where({ state: 'current' }).update({ state: 'previous' });
      const [row] = await trx('secrets')
        .where({ secret_id: secretId })
        .update({ state: 'current', promoted_at: trx.fn.now() }, REF_COLUMNS);
      return toRef(row);
    });
  }

  /** Takes a secret out of use; its plaintext can no longer be read. */
  async retire(workspaceId: string, secretId: string): Promise<SecretRef> {
    return withWorkspace(this.db, workspaceId, async (trx) => {
      const [row] = await trx('secrets')
        .where({ secret_id: secretId })
        .whereIn('state', ['pending', 'current', 'previous'])
        .update({ state: 'retired', retired_at: trx.fn.now() }, REF_COLUMNS);
      if (row) return toRef(row);
      const exists = await trx('secrets').where({ secret_id: secretId }).first('state');
      if (!exists) throw new SecretNotFoundError(secretId);
      throw new SecretStateError(secretId, `secret ${secretId} is already ${exists.state}`);
    });
  }

  /** Disconnect (T4): every secret of the integration loses its key material for good. */
  async destroyForIntegration(workspaceId: string, integrationId: string): Promise<number> {
    return withWorkspace(this.db, workspaceId, (trx) =>
      trx('secrets').where({ integration_id: integrationId }).whereNot({ state: 'destroyed' }).update(destroyed(trx)),
    );
  }

  /** Every secret of one kind of the integration loses its key material for good (posted SAML responses). */
  async destroyOfKind(workspaceId: string, integrationId: string, kind: SecretKind): Promise<number> {
    return withWorkspace(this.db, workspaceId, (trx) =>
      trx('secrets')
        .where({ integration_id: integrationId, kind })
        .whereNot({ state: 'destroyed' })
        .update(destroyed(trx)),
    );
  }
}

/** The columns of a destroyed secret: state and time, no key material or ciphertext. */
function destroyed(trx: Knex) {
  return {
    state: 'destroyed',
    kek_id: null,
    wrapped_dek: null,
    iv: null,
    auth_tag: null,
    ciphertext: null,
    destroyed_at: trx.fn.now(),
  };
}
