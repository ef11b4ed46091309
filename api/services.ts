/**
 * What the business routes need, injected by `api/main.ts` (real) or a test. Ports are named for
 * what the API does with them; their implementations live in `db/` and `activities/vendors/`.
 */
import type { Client } from '@temporalio/client';
import type { Knex } from 'knex';
import type { CatalogRow, WebhookVerifiers } from '../activities/vendors/catalog';
import type { VendorId } from '../activities/vendors/types';
import type { SecretStore } from '../db/secrets';
import type { AuditSink } from '../lib/audit';
import type { Authenticator } from './auth';
import type { RateLimitStore } from '../db/rateLimits';
import type { RateLimitPolicy } from './rateLimit';

export interface TemporalAccess {
  client: Client;
  namespace: string;
  taskQueue: string;
  /** Temporal UI base URL, for `links.temporalUi`. */
  uiUrl: string;
}

export interface ApiServices {
  /** Runtime pool in the api role: RLS applies; every query goes through `withWorkspace`. */
  db: Knex;
  temporal: TemporalAccess;
  auth: Authenticator;
  /** Writes the workspace audit log (`db/audit.ts` createAuditLog); reads go through `listAudit`. */
  audit: AuditSink;
  /** HMAC key for JWT subjects the audit log cannot store verbatim (`db/audit.ts` auditSubjectId). */
  auditSubjectKey: Buffer;
  /** HMAC key of the consent session cookie that binds an OAuth state to its initiator (T2, `lib/oauth/consentSession.ts`). */
  consentSessionKey: Buffer;
  /**
   * Envelope-encrypted secrets (T6, T7): the API stores service-account credentials, SAML metadata
   * and posted SAML responses, reads webhook signing secrets (every version in force), and finds an integration's current
   * SAML metadata (a reconnect signs in against it again).
   */
  secrets: Pick<SecretStore, 'put' | 'read' | 'current' | 'usable'>;
  /** Every row of the vendor catalog with its availability here; only `available` rows can be connected. */
  vendors: ReadonlyMap<VendorId, CatalogRow>;
  webhookVerifiers: WebhookVerifiers;
  /**
   * Secrets of vendor apps that sign every delivery with one app-wide secret sent to one app-wide
   * URL (GitHub Apps), current first, then the previous one while an operator rotation's window is
   * open (both verify, T8); absent: that vendor's app-level receiver answers 404.
   */
  appWebhookSecrets: Partial<Record<VendorId, readonly string[]>>;
  /** Public base URL of this API: OAuth redirect URIs and webhook URLs are built from it. */
  publicUrl: string;
  /** Disconnect → purge delay promised to the caller (the workflow clamps it to 30 days, T15). */
  purgeDelayMs: number;
  /** Grace window of an admin-set webhook secret's rotation; absent: the workflow's (`ROTATION_GRACE_MS`). */
  webhookSecretGraceMs?: number;
  rateLimits?: RateLimitPolicy;
  /** Shares the caller and workspace budgets across API instances (`db/rateLimits.ts`); absent: per instance. */
  rateLimitStore?: RateLimitStore;
}
