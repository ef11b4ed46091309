/**
 * The one audited path for vendor calls (T10, T22): every connector call runs inside
 * `auditor(call, run)`, which records who called, with which scope, and how it ended. Connectors
 * receive the auditor through `ConnectorContext.audit` and never call a vendor outside it.
 *
 * T17: an auditor built for a connected integration knows its consented scopes; a call exercising a
 * scope the admin has since removed is refused here, before it is made, and audited as denied —
 * whatever the stored token would still allow.
 *
 * T25: each call is a client span (`vendor <vendor> <action>`) in the trace of the activity that
 * makes it, with its scope, outcome and failure type; never its input or the vendor's answer.
 */
import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import type { AuditActor, AuditSink } from '../../lib/audit';
import { scopesNoLongerConsented } from '../../lib/scopes';
import { SpanAttr, tracer } from '../../lib/tracing';
import { countActivityMetric, logActivity } from '../telemetry';
import { VendorError, VendorFailureType, vendorFailureType } from './errors';
import type { AuditedCall, VendorCallAuditor } from './types';

export function createVendorCallAuditor(deps: {
  sink: AuditSink;
  workspaceId: string;
  integrationId?: string;
  vendor: string;
  actor: AuditActor;
  workflowId?: string;
  /** The integration's consented scopes; absent at connect time, before there is a consent to narrow. */
  consentedScopes?: readonly string[];
}): VendorCallAuditor {
  return (call, run) =>
    tracer().startActiveSpan(
      `vendor ${deps.vendor} ${call.action}`,
      {
        kind: SpanKind.CLIENT,
        attributes: {
          [SpanAttr.vendor]: deps.vendor,
          [SpanAttr.action]: call.action,
          [SpanAttr.scope]: call.scope,
          [SpanAttr.workspaceId]: deps.workspaceId,
          ...(deps.integrationId ? { [SpanAttr.integrationId]: deps.integrationId } : {}),
        },
      },
      async (span) => {
        try {
          return await audited(call, run, span);
        } finally {
          span.end();
        }
      },
    );

  async function audited<T>(call: AuditedCall, run: () => Promise<T>, span: Span): Promise<T> {
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
    const removed = deps.consentedScopes ? scopesNoLongerConsented(call.scope, deps.consentedScopes) : [];
    if (removed.length > 0) {
      await deps.sink.record({ ...base, outcome: 'denied', errorClass: VendorFailureType.MissingScope });
      endedAs(span, 'denied', VendorFailureType.MissingScope);
      countActivityMetric('vendor_calls', 1, {
        vendor: deps.vendor,
        outcome: 'denied',
        failure_type: VendorFailureType.MissingScope,
      });
      throw new VendorError(
        VendorFailureType.MissingScope,
        deps.vendor,
        `${removed.join(', ')} is no longer in the integration's consented scopes`,
      );
    }
    try {
      const result = await run();
      await deps.sink.record({ ...base, outcome: 'success' });
      endedAs(span, 'success');
      countActivityMetric('vendor_calls', 1, { vendor: deps.vendor, outcome: 'success', failure_type: 'none' });
      return result;
    } catch (error) {
      const errorClass = vendorFailureType(error);
      await deps.sink.record({ ...base, outcome: 'failure', errorClass });
      endedAs(span, 'failure', errorClass);
      countActivityMetric('vendor_calls', 1, { vendor: deps.vendor, outcome: 'failure', failure_type: errorClass });
      logActivity('warn', 'vendor call failed', deps, { action: call.action, failureType: errorClass });
      throw error;
    }
  }
}

function endedAs(span: Span, outcome: 'success' | 'failure' | 'denied', failureType?: string): void {
  span.setAttribute(SpanAttr.outcome, outcome);
  if (failureType) {
    span.setAttribute(SpanAttr.failureType, failureType);
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
}
