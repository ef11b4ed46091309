/**
 * Data out (T19): one action of the matrix row's data-out list, performed with the integration's
 * current credential through its connector, which enforces the customer controls (repos, projects,
 * channels, sites) and records the call on the one audited path.
 *
 * T10: every request is audited here, with the actor the workflow input carries, whoever started the
 * run (the API or a backend service directly) and however it ended — a refusal before any vendor
 * call included.
 *
 * Graceful shutdown: an action is either sent and its outcome recorded, or refused as
 * `WorkerShuttingDown` before it is sent (audited so), never cut off in between.
 */
import { ApplicationFailure } from '@temporalio/common';
import type { AuditActor, AuditOutcome } from '../../lib/audit';
import { VendorError } from '../vendors/errors';
import {
  asActivity,
  createIntegrationContext,
  currentWorkflowId,
  IntegrationFailureType,
  nonRetryable,
  type IntegrationRef,
} from './context';
import type { IntegrationActivityDeps } from './deps';

/** Refusals by our own rules, before the vendor is asked; anything else that fails is a failure. */
const DENIALS: ReadonlySet<string> = new Set([
  IntegrationFailureType.ActionNotInDataOut,
  IntegrationFailureType.IntegrationNotActive,
  IntegrationFailureType.IntegrationNotFound,
  IntegrationFailureType.WorkerShuttingDown,
]);

function failureClass(error: unknown): string {
  if (error instanceof VendorError) return error.type;
  if (error instanceof ApplicationFailure && error.type) return error.type;
  return error instanceof Error ? error.name : 'Error';
}

export function createActionActivities(deps: IntegrationActivityDeps) {
  const context = createIntegrationContext(deps);
  return {
    /** Answers the vendor's ids and URLs for what it created; the input is never logged or returned. */
    async performVendorAction(
      input: IntegrationRef & { action: string; input: Record<string, unknown>; actor: AuditActor },
    ): Promise<Record<string, unknown>> {
      let vendor: string | undefined;
      const audit = (outcome: AuditOutcome, errorClass?: string) =>
        deps.audit.record({
          workspaceId: input.workspaceId,
          integrationId: input.integrationId,
          vendor,
          actor: input.actor,
          direction: 'internal',
          action: `integration.action.${input.action}`,
          outcome,
          errorClass,
          workflowId: currentWorkflowId(),
        });
      try {
        const result = await asActivity(async () => {
          const { resolved, ctx } = await context.resolveConnected(input);
          vendor = resolved.row.vendor;
          if (!resolved.descriptor.dataOut.includes(input.action)) {
            throw nonRetryable(
              IntegrationFailureType.ActionNotInDataOut,
              `${input.action} is not in ${resolved.descriptor.displayName}'s data out (${resolved.descriptor.dataOut.join(', ') || 'none'})`,
            );
          }
          // The last moment to stop: past it the request is sent and runs to its recorded outcome,
          // within the worker's shutdown grace (never aborted half-way, which would leave it ambiguous).
          if (deps.workerShutdown?.aborted) {
            throw nonRetryable(IntegrationFailureType.WorkerShuttingDown, 'worker shutting down: action not sent');
          }
          return resolved.connector.perform(ctx, input.action, input.input);
        });
        await audit('success');
        return result;
      } catch (error) {
        const errorClass = failureClass(error);
        await audit(DENIALS.has(errorClass) ? 'denied' : 'failure', errorClass);
        throw error;
      }
    },
  };
}
