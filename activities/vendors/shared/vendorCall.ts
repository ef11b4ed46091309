/**
 * The one way a connector calls its vendor: inside the audited path (T10), after taking from the
 * budget of the vendor account the call counts against (`vendorBudgets.ts`), with the SDK's error
 * translated to a typed `VendorError` by the vendor's mapper. A vendor 429 with Retry-After blocks
 * that budget for every worker. Denials by our own controls (T18/T19) are thrown inside too, so they
 * are audited as well.
 */
import { VendorError, VendorFailureType } from '../errors';
import type { AuditedCall, VendorCallAuditor, VendorDescriptor } from '../types';
import { budgetKey, budgetPolicy, createLocalVendorBudgets, type VendorBudgets } from './vendorBudgets';

export type VendorErrorMapper = (error: unknown) => unknown;

/**
 * `workspaceId` (and the credential's metadata, when the vendor counts per account) keys the budget;
 * connect-time calls (code exchange) have none yet and skip it.
 */
export type VendorCall = <T>(
  context: {
    audit: VendorCallAuditor;
    workspaceId?: string;
    credential?: { metadata?: Record<string, string> };
  },
  call: AuditedCall,
  run: () => Promise<T>,
) => Promise<T>;

export function createVendorCall(options: {
  /** The vendor family: its rows share budgets (Graph counts per app and tenant, whichever row calls). */
  family: string;
  /** Our app registration at the vendor (GitHub app id, OAuth client id): vendors count per app. */
  appId: string;
  rateLimit: Pick<VendorDescriptor['rateLimit'], 'requestsPerMinute' | 'countedPer'>;
  /** The worker's budgets (shared through the store); absent: this process's own. */
  budgets?: VendorBudgets;
  mapError: VendorErrorMapper;
}): VendorCall {
  const budgets = options.budgets ?? createLocalVendorBudgets();
  const policy = budgetPolicy(options.rateLimit);
  return (context, call, run) =>
    context.audit(call, async () => {
      const key = context.workspaceId
        ? budgetKey({ family: options.family, id: options.appId }, options.rateLimit, {
            ...context,
            workspaceId: context.workspaceId,
          })
        : undefined;
      if (key) await budgets.take(options.family, key, policy);
      try {
        return await run();
      } catch (error) {
        const mapped = error instanceof VendorError ? error : options.mapError(error);
        // Only the vendor's own answer blocks the account for every worker: a refusal of our own
        // pacing (a Slack channel's pace, Procore's spent hourly window) already waits on its own.
        if (
          key &&
          mapped instanceof VendorError &&
          mapped.type === VendorFailureType.RateLimited &&
          mapped.details.source === 'vendor' &&
          mapped.details.retryAfterMs
        )
          await budgets.block(options.family, key, mapped.details.retryAfterMs);
        throw mapped;
      }
    });
}
