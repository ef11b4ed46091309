/**
 * The audit contract (T10, T24). `db/audit.ts` implements it on the append-only, hash-chained
 * `audit_log` table; the vendor-call path, the API and the workflows' activities all write through
 * an `AuditSink`. Entries carry identities, scopes and outcomes: never payloads, tokens or personal
 * data (subject ids are opaque ids, not e-mail addresses).
 */
export type AuditDirection = 'inbound' | 'outbound' | 'internal';
export type AuditOutcome = 'success' | 'failure' | 'denied';

/** Who asked or acted, in audit entries and in workflow inputs: never a name or e-mail. */
export interface AuditActor {
  type: 'user' | 'service' | 'workflow' | 'vendor' | 'system';
  /** Opaque id: JWT subject, service name, workflow id, vendor name. */
  id: string;
}

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
