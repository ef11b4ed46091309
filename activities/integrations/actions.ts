/**
 * Data out (T19): one action of the matrix row's data-out list, performed with the integration's
 * current credential through its connector, which enforces the customer controls (repos, projects,
 * channels, sites) and records the call on the one audited path.
 */
import {
  asActivity,
  createIntegrationContext,
  IntegrationFailureType,
  nonRetryable,
  type IntegrationRef,
} from './context';
import type { IntegrationActivityDeps } from './deps';

export function createActionActivities(deps: IntegrationActivityDeps) {
  const context = createIntegrationContext(deps);
  return {
    /** Answers the vendor's ids and URLs for what it created; the input is never logged or returned. */
    async performVendorAction(
      input: IntegrationRef & { action: string; input: Record<string, unknown> },
    ): Promise<Record<string, unknown>> {
      return asActivity(async () => {
        const { resolved, ctx } = await context.resolveConnected(input);
        if (!resolved.descriptor.dataOut.includes(input.action)) {
          throw nonRetryable(
            IntegrationFailureType.ActionNotInDataOut,
            `${input.action} is not in ${resolved.descriptor.displayName}'s data out (${resolved.descriptor.dataOut.join(', ') || 'none'})`,
          );
        }
        return resolved.connector.perform(ctx, input.action, input.input);
      });
    },
  };
}
