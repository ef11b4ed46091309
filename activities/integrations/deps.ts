/**
 * What the generic integration activities need, injected (tests pass their own).
 */
import type { Knex } from 'knex';
import type { SecretStore } from '../../db/secrets';
import type { AuditSink } from '../../lib/audit';
import type { Logger } from '../../lib/logger';
import type { ConnectorRegistry } from '../vendors/registry';

export type { SecretKind } from '../../db/secrets';
/** The envelope-encrypted store (T6, T7); tests pass a real one over their own key. */
export type IntegrationSecretStore = SecretStore;

export interface IntegrationActivityDeps {
  /** Runtime pool in the worker role: RLS applies, every query goes through `withWorkspace`. */
  db: Knex;
  logger: Logger;
  secrets: IntegrationSecretStore;
  audit: AuditSink;
  vendors: ConnectorRegistry;
  /** The API's public base URL: vendors post webhooks to `webhookUrl(webhookBaseUrl, …)`. */
  webhookBaseUrl: string;
  /**
   * Aborted when the worker starts shutting down (SIGTERM): activities send nothing new to a vendor
   * after it and stop long batches at the next commit; what is in flight finishes within the grace.
   */
  workerShutdown?: AbortSignal;
  /**
   * When `syncPages` commits the vendor pages it has fetched (`activities/integrations/sync.ts`,
   * SYNC_COMMIT_GROUP, which production uses); tests and benchmarks pass smaller or larger groups.
   */
  syncCommitGroup?: { records: number; ms: number };
}

/**
 * The receiver route of `api/webhooks/receiver.ts`. The workspace id in the path lets the API bind
 * the workspace before it looks the endpoint up under RLS (T21).
 */
export function webhookUrl(apiBaseUrl: string, vendor: string, workspaceId: string, endpointId: string): string {
  return `${apiBaseUrl}/v1/webhooks/${vendor}/${workspaceId}/${endpointId}`;
}
