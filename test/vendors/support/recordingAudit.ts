/** An in-memory AuditSink for connector tests: every vendor call's caller, scope and outcome (T10). */
import type { AuditEntry, AuditSink } from '../../../lib/audit';
import { createVendorCallAuditor } from '../../../activities/vendors/audited';
import type { VendorCallAuditor } from '../../../activities/vendors/types';

export function recordingAuditor(input: { workspaceId: string; vendor: string }): {
  audit: VendorCallAuditor;
  entries: AuditEntry[];
} {
  const entries: AuditEntry[] = [];
  const sink: AuditSink = {
    record: async (entry) => {
      entries.push(entry);
    },
  };
  const audit = createVendorCallAuditor({
    sink,
    workspaceId: input.workspaceId,
    vendor: input.vendor,
    actor: { type: 'workflow', id: 'test-workflow' },
  });
  return { audit, entries };
}
