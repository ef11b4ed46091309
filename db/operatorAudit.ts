/**
 * The operator audit log (migration 0013): our operators' actions across workspaces, such as
 * decoding payloads in the Temporal UI. Append-only; the API role may only insert. Operator ids
 * go through `auditSubjectId`, so an IdP subject shaped like an e-mail is stored as a keyed hash.
 */
import type { Knex } from 'knex';
import type { AuditOutcome } from '../lib/audit';
import { auditSubjectId } from './audit';

export interface OperatorAuditEntry {
  /** The operator's subject as the IdP (or the local-development rule) names it. */
  operator: string;
  authMethod: 'oidc' | 'local-dev';
  action: 'codec.decode' | 'codec.encode';
  namespace: string;
  payloads: number;
  outcome: AuditOutcome;
  requestId?: string;
}

export interface OperatorAuditSink {
  record(entry: OperatorAuditEntry): Promise<void>;
}

export function createOperatorAuditLog(db: Knex, subjectKey: Buffer): OperatorAuditSink {
  return {
    async record(entry) {
      await db('operator_audit_log').insert({
        operator_id: auditSubjectId(entry.operator, subjectKey),
        auth_method: entry.authMethod,
        action: entry.action,
        namespace: entry.namespace,
        payloads: entry.payloads,
        outcome: entry.outcome,
        request_id: entry.requestId ?? null,
      });
    },
  };
}
