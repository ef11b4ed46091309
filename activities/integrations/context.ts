/**
 * Shared mechanics of the generic activities: load an integration row, decrypt its current
 * credential, and build the `ConnectorContext` whose auditor records every vendor call (T10, T22).
 * Credentials are decrypted here, inside the activity, and never returned to a workflow.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import type { Knex } from 'knex';
import { findIntegration, type IntegrationRow as StoredIntegration } from '../../db/integrations';
import { SecretStateError, type SecretKind } from '../../db/secrets';
import { withWorkspace } from '../../db/workspaceScope';
import type { AuditActor } from '../../lib/audit';
import { consentedScopes } from '../../lib/scopes';
import { createSemaphore, type Semaphore } from '../../lib/semaphore';
import { createVendorCallAuditor } from '../vendors/audited';
import { toApplicationFailure, vendorFailureType } from '../vendors/errors';
import { countActivityMetric, logActivity } from '../telemetry';
import type {
  Connector,
  ConnectorContext,
  TokenSet,
  VendorCallAuditor,
  VendorDescriptor,
  VendorId,
} from '../vendors/types';
import type { IntegrationActivityDeps, IntegrationSecretStore } from './deps';

/** The stored row, its vendor one of ours (the connect workflow validated it before the row existed). */
export type IntegrationRow = StoredIntegration & { vendor: VendorId };

export interface IntegrationRef {
  workspaceId: string;
  integrationId: string;
}

/** Failure types the generic activities raise themselves (vendor failures keep their own types). */
export const IntegrationFailureType = {
  IntegrationNotFound: 'IntegrationNotFound',
  /** The integration is disconnecting / disconnected / failed: no more vendor calls or writes. */
  IntegrationNotActive: 'IntegrationNotActive',
  CredentialMissing: 'CredentialMissing',
  InvalidOAuthState: 'InvalidOAuthState',
  GrantBroaderThanRequested: 'GrantBroaderThanRequested',
  ScopesOutsideMatrix: 'ScopesOutsideMatrix',
  ConsentNotNarrowing: 'ConsentNotNarrowing',
  /** Data out asked for an action outside the row's data-out list (T19). */
  ActionNotInDataOut: 'ActionNotInDataOut',
  /**
   * The worker began shutting down before this data-out action was sent: nothing reached the vendor,
   * so the workflow runs it again on another worker.
   */
  WorkerShuttingDown: 'WorkerShuttingDown',
  /** The row's vendor has no list to pick its customer control from (the admin types the values). */
  NoControlChoices: 'NoControlChoices',
} as const;

export function nonRetryable(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ type, message, nonRetryable: true });
}

export async function loadIntegration(
  trx: Knex.Transaction,
  ref: IntegrationRef,
  lock?: 'share' | 'update',
): Promise<IntegrationRow> {
  const row = await findIntegration(trx, ref.integrationId, lock);
  if (!row) throw nonRetryable(IntegrationFailureType.IntegrationNotFound, 'integration not found in this workspace');
  return row as IntegrationRow;
}

/** Tells Temporal the current activity is alive (no-op when called outside an activity, e.g. benchmarks). */
export function heartbeat(details?: unknown): void {
  let context: Context;
  try {
    context = Context.current();
  } catch {
    return;
  }
  context.heartbeat(details);
}

/** The workflow that runs the current activity (for audit entries); undefined outside an activity. */
export function currentWorkflowId(): string | undefined {
  try {
    return Context.current().info.workflowExecution?.workflowId;
  } catch {
    return undefined;
  }
}

/**
 * The scheduled activity running now, as every attempt of it sees it (a Temporal retry keeps the
 * workflow run and the activity id); undefined outside an activity (benchmarks).
 */
export function currentActivityKey(): string | undefined {
  try {
    const { workflowExecution, activityId } = Context.current().info;
    return workflowExecution ? `${workflowExecution.runId}/${activityId}` : undefined;
  } catch {
    return undefined;
  }
}

export function workflowActor(): AuditActor {
  return { type: 'workflow', id: currentWorkflowId() ?? 'integrations-worker' };
}

/** Stored credential format: a JSON TokenSet; a service-account secret may be a bare API key. */
export function parseCredential(plaintext: string): TokenSet {
  try {
    const parsed = JSON.parse(plaintext) as Partial<TokenSet>;
    if (parsed && typeof parsed.accessToken === 'string') return { grantedScopes: [], ...parsed } as TokenSet;
  } catch {
    // not JSON: a bare key
  }
  return { accessToken: plaintext, grantedScopes: [] };
}

/** The current version of a kind with its plaintext (decrypted here, never returned to a workflow). */
export async function readCurrentSecret(
  secrets: IntegrationSecretStore,
  ref: IntegrationRef,
  kind: SecretKind,
): Promise<{ secretId: string; plaintext: string; expiresAt: Date | null } | undefined> {
  const current = await secrets.current(ref.workspaceId, ref.integrationId, kind);
  if (!current) return undefined;
  const plaintext = (await secrets.read(ref.workspaceId, current.secretId)).toString('utf8');
  return { secretId: current.secretId, plaintext, expiresAt: current.expiresAt };
}

/** Fresh tokens from the vendor; where the vendor does not rotate refresh tokens the old one stays valid and is kept. */
export async function refreshedTokens(connector: Connector, ctx: ConnectorContext): Promise<TokenSet> {
  let fresh: TokenSet;
  try {
    fresh = await connector.refresh(ctx);
  } catch (error) {
    const failureType = vendorFailureType(error);
    countActivityMetric('token_refresh_failures', 1, { vendor: ctx.vendor, failure_type: failureType });
    logActivity('warn', 'token refresh failed', ctx, { failureType });
    throw error;
  }
  return { ...fresh, refreshToken: fresh.refreshToken ?? ctx.credential.refreshToken };
}

/**
 * Runs `refresh` holding the integration's refresh lock (a transaction-scoped advisory lock, held
 * across the vendor call), so two refreshes of one integration never overlap: with single-use
 * refresh tokens (Procore) the second would present the token the first just burned, and the
 * vendor would refuse it, losing the grant. The second refresh waits, then reads the pair the
 * first stored and refreshes with that one.
 */
export async function withRefreshLock<T>(db: Knex, ref: IntegrationRef, refresh: () => Promise<T>): Promise<T> {
  return refreshSlots(db).run(() =>
    db.transaction(async (trx) => {
      await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [`oauth-refresh:${ref.integrationId}`]);
      return refresh();
    }),
  );
}

/**
 * A lock holds a pool connection while its refresh reads and stores secrets on others: with as many
 * refreshes in flight as the pool has connections, each waited for a connection another held, and
 * the worker stalled until knex timed out (`npm run bench:scale`, a burst of due refreshes). So at
 * most half the pool holds refresh locks; the rest always serves the refreshes' own queries.
 */
const REFRESH_SLOTS = new WeakMap<Knex, Semaphore>();

function refreshSlots(db: Knex): Semaphore {
  let slots = REFRESH_SLOTS.get(db);
  if (!slots) {
    const poolMax = (db.client as { config?: { pool?: { max?: number } } }).config?.pool?.max ?? 10;
    slots = createSemaphore(Math.max(1, Math.floor(poolMax / 2)));
    REFRESH_SLOTS.set(db, slots);
  }
  return slots;
}

/** The newest pending version of a kind (minted by a rotation not promoted yet), or undefined. */
export async function pendingVersion(
  db: Knex,
  ref: IntegrationRef,
  kind: SecretKind,
): Promise<{ secretId: string; version: number; expiresAt: Date | null } | undefined> {
  const row = (await withWorkspace(db, ref.workspaceId, (trx) =>
    trx('secrets')
      .where({ integration_id: ref.integrationId, kind, state: 'pending' })
      .orderBy('version', 'desc')
      .first('secret_id', 'version', 'expires_at'),
  )) as { secret_id: string; version: number; expires_at: Date | null } | undefined;
  return row && { secretId: row.secret_id, version: row.version, expiresAt: row.expires_at };
}

/**
 * Stores a token set as a pending `oauth-tokens` version: nothing uses it until the caller
 * promotes it, and with rotating refresh tokens the new pair is stored before the old is dropped.
 */
export async function putPendingTokens(
  secrets: IntegrationSecretStore,
  ref: IntegrationRef,
  tokens: TokenSet,
): Promise<{ secretId: string; version: number }> {
  return secrets.put({
    workspaceId: ref.workspaceId,
    integrationId: ref.integrationId,
    kind: 'oauth-tokens',
    state: 'pending',
    plaintext: JSON.stringify(tokens),
    expiresAt: tokens.expiresAt ? new Date(tokens.expiresAt) : undefined,
  });
}

export type ConsentAction = 'granted' | 'narrowed' | 'revoked' | 'reauthorized' | 'controls_changed';

/** One row of the consent ledger (T2): who, when (row time), which scopes and controls. */
export async function recordConsent(
  trx: Knex.Transaction,
  ref: IntegrationRef,
  entry: {
    actor: AuditActor;
    action: ConsentAction;
    scopes: string[];
    controls: Record<string, string[]> | null | undefined;
  },
): Promise<void> {
  await trx('consent_events').insert({
    workspace_id: ref.workspaceId,
    integration_id: ref.integrationId,
    actor_type: entry.actor.type,
    actor_id: entry.actor.id,
    action: entry.action,
    scopes: entry.scopes,
    controls: JSON.stringify(entry.controls ?? {}),
  });
}

/** Promote / retire as idempotent steps: a retry after the commit finds the work already done. */
export async function promoteIdempotent(
  secrets: IntegrationSecretStore,
  workspaceId: string,
  secretId: string,
): Promise<void> {
  try {
    await secrets.promote(workspaceId, secretId);
  } catch (error) {
    if (!(error instanceof SecretStateError) || !/is current\)/.test(error.message)) throw error;
  }
}

export async function retireIdempotent(
  secrets: IntegrationSecretStore,
  workspaceId: string,
  secretId: string,
): Promise<void> {
  try {
    await secrets.retire(workspaceId, secretId);
  } catch (error) {
    if (!(error instanceof SecretStateError)) throw error;
  }
}

/** Runs `work`, converting vendor errors to typed Temporal failures (the one mapping). */
export async function asActivity<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    throw toApplicationFailure(error);
  }
}

function scopesOf(row: IntegrationRow): string[] {
  return consentedScopes(row.granted_scopes, row.requested_scopes);
}

export interface ResolvedIntegration {
  row: IntegrationRow;
  descriptor: VendorDescriptor;
  connector: Connector;
  audit: VendorCallAuditor;
}

export function createIntegrationContext(deps: IntegrationActivityDeps) {
  /** `consentedScopes` once the integration has a consent: calls outside it are refused (T17). */
  const auditorFor = (ref: IntegrationRef, vendor: VendorId, consentedScopes?: readonly string[]): VendorCallAuditor =>
    createVendorCallAuditor({
      sink: deps.audit,
      workspaceId: ref.workspaceId,
      integrationId: ref.integrationId,
      vendor,
      actor: workflowActor(),
      workflowId: currentWorkflowId(),
      consentedScopes,
    });

  async function resolve(ref: IntegrationRef): Promise<ResolvedIntegration> {
    const row = await withWorkspace(deps.db, ref.workspaceId, (trx) => loadIntegration(trx, ref));
    return {
      row,
      descriptor: deps.vendors.descriptor(row.vendor),
      connector: deps.vendors.connector(row.vendor),
      audit: auditorFor(ref, row.vendor, scopesOf(row)),
    };
  }

  /** The connector context with the integration's current credential (oauth tokens or service account). */
  async function connectorContext(resolved: ResolvedIntegration, credential?: TokenSet): Promise<ConnectorContext> {
    const ref = { workspaceId: resolved.row.workspace_id, integrationId: resolved.row.integration_id };
    let token = credential;
    if (!token) {
      const kind = resolved.descriptor.authKind === 'service-account' ? 'service-account' : 'oauth-tokens';
      const current = await readCurrentSecret(deps.secrets, ref, kind);
      if (!current)
        throw nonRetryable(IntegrationFailureType.CredentialMissing, `no current ${kind} secret for the integration`);
      token = parseCredential(current.plaintext);
    }
    return {
      workspaceId: ref.workspaceId,
      integrationId: ref.integrationId,
      vendor: resolved.row.vendor,
      credential: token,
      scopes: scopesOf(resolved.row),
      controls: resolved.row.controls ?? {},
      audit: resolved.audit,
    };
  }

  /**
   * The connector context for calls that give access back (revoke, delete subscriptions): they stay
   * possible whatever the consent was narrowed to, so its auditor records them without the T17 check.
   */
  async function withdrawalContext(resolved: ResolvedIntegration): Promise<ConnectorContext> {
    const ref = { workspaceId: resolved.row.workspace_id, integrationId: resolved.row.integration_id };
    return { ...(await connectorContext(resolved)), audit: auditorFor(ref, resolved.row.vendor) };
  }

  /** A connected integration and its connector context: nothing is called or written for any other status. */
  async function resolveConnected(
    ref: IntegrationRef,
  ): Promise<{ resolved: ResolvedIntegration; ctx: ConnectorContext }> {
    const resolved = await resolve(ref);
    if (resolved.row.status !== 'connected')
      throw nonRetryable(IntegrationFailureType.IntegrationNotActive, `integration is ${resolved.row.status}`);
    return { resolved, ctx: await connectorContext(resolved) };
  }

  return { resolve, resolveConnected, connectorContext, withdrawalContext, auditorFor };
}

export type IntegrationContext = ReturnType<typeof createIntegrationContext>;
