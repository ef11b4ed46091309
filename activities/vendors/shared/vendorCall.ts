/**
 * The one way a connector calls its vendor: inside the audited path (T10), after taking from the
 * workspace's rate budget, with the SDK's error translated to a typed `VendorError` by the vendor's
 * mapper. Denials by our own controls (T18/T19) are thrown inside too, so they are audited as well.
 */
import { VendorError } from '../errors';
import type { AuditedCall, VendorCallAuditor } from '../types';
import type { RateBudget } from './rateBudget';

export type VendorErrorMapper = (error: unknown) => unknown;

/** `workspaceId` keys the rate budget; connect-time calls (code exchange) have none yet and skip it. */
export type VendorCall = <T>(
  context: { audit: VendorCallAuditor; workspaceId?: string },
  call: AuditedCall,
  run: () => Promise<T>,
) => Promise<T>;

export function createVendorCall(options: { budget: RateBudget; mapError: VendorErrorMapper }): VendorCall {
  return (context, call, run) =>
    context.audit(call, async () => {
      if (context.workspaceId) options.budget.take(context.workspaceId);
      try {
        return await run();
      } catch (error) {
        throw error instanceof VendorError ? error : options.mapError(error);
      }
    });
}
