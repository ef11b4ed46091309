/**
 * The admin's picker for a customer control (T18): one page of what the vendor lists for the
 * integration's grant (Slack: public channels), read through its connector on the audited path.
 * Read for the picker only: nothing is stored (the row's data in stays what the matrix says, T19).
 */
import type { ControlChoicesPage } from '../vendors/types';
import {
  asActivity,
  createIntegrationContext,
  IntegrationFailureType,
  nonRetryable,
  type IntegrationRef,
} from './context';
import type { IntegrationActivityDeps } from './deps';

export function createChoiceActivities(deps: IntegrationActivityDeps) {
  const context = createIntegrationContext(deps);
  return {
    async listControlChoices(input: IntegrationRef & { cursor: string | null }): Promise<ControlChoicesPage> {
      return asActivity(async () => {
        const { resolved, ctx } = await context.resolveConnected(input);
        if (!resolved.connector.listControlChoices)
          throw nonRetryable(
            IntegrationFailureType.NoControlChoices,
            `${resolved.descriptor.displayName} offers no list to pick its customer control from`,
          );
        return resolved.connector.listControlChoices(ctx, { cursor: input.cursor });
      });
    },
  };
}
