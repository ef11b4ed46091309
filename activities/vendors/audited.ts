/**
 * The one audited path for vendor calls (T10, T22): every connector call runs inside
 * `auditor(call, run)`, which records who called, with which scope, and how it ended. Connectors
 * receive the auditor through `ConnectorContext.audit` and never call a vendor outside it.
 */
import type { AuditActor, AuditSink } from '../../lib/audit';
import { VendorError } from './errors';
import type { VendorCallAuditor } from './types';

export function createVendorCallAuditor(deps: {
  sink: AuditSink;
  workspaceId: string;
  integrationId?: string;
  vendor: string;
  actor: AuditActor;
  workflowId?: string;
}): VendorCallAuditor {
  return async (call, run) => {
    const base = {
      workspaceId: deps.workspaceId,
      integrationId: deps.integrationId,
      vendor: deps.vendor,
      actor: deps.actor,
      direction: 'outbound' as const,
      action: call.action,
      scope: call.scope,
      workflowId: deps.workflowId,
    };
    try {
      const result = await run();
      await deps.sink.record({ ...base, outcome: 'success' });
      return result;
    } catch (error) {
      const errorClass = error instanceof VendorError ? error.type : error instanceof Error ? error.name : 'Error';
      await deps.sink.record({ ...base, outcome: 'failure', errorClass });
      throw error;
    }
  };
}
