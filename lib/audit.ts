/**
 * The audit contract (T10, T24). `db/audit.ts` implements it on the append-only, hash-chained
 * `audit_log` table; the vendor-call path, the API and the workflows' activities all write through
 * an `AuditSink`. Entries carry identities, scopes and outcomes: never payloads, tokens or personal
 * data (subject ids are opaque ids, not e-mail addresses).
 */
import type { AuditActor } from '@trackproject/integrations-client/definitions';

export type AuditDirection = 'inbound' | 'outbound' | 'internal';
export type AuditOutcome = 'success' | 'failure' | 'denied';

/** Who asked or acted, in audit entries and in workflow inputs (defined with the workflow messages that carry it). */
export type { AuditActor };

export interface AuditEntry {
  workspaceId: string;
  actor: AuditActor;
  direction: AuditDirection;
  vendor?: string;
  integrationId?: string;
  action: string;
  scope?: string;
  outcome: AuditOutcome;
  /** Error class only (e.g. `RateLimited`), never a message that could carry data. */
  errorClass?: string;
  requestId?: string;
  workflowId?: string;
}

export interface AuditSink {
  record(entry: AuditEntry): Promise<void>;
}
