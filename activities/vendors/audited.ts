/**
 * The one audited path for vendor calls (T10, T22): every connector call runs inside
 * `auditor(call, run)`, which records who called, with which scope, and how it ended. Connectors
 * receive the auditor through `ConnectorContext.audit` and never call a vendor outside it.
 */
import type { AuditActor, AuditSink } from '../../lib/audit';
import { countActivityMetric, logActivity } from '../telemetry';
import { vendorFailureType } from './errors';
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
      countActivityMetric('vendor_calls', 1, { vendor: deps.vendor, outcome: 'success', failure_type: 'none' });
      return result;
    } catch (error) {
      const errorClass = vendorFailureType(error);
      await deps.sink.record({ ...base, outcome: 'failure', errorClass });
      countActivityMetric('vendor_calls', 1, { vendor: deps.vendor, outcome: 'failure', failure_type: errorClass });
      logActivity('warn', 'vendor call failed', deps, { action: call.action, failureType: errorClass });
      throw error;
    }
  };
}
