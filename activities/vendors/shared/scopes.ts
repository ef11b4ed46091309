/** T1: a grant broader than what we requested is refused, never silently used (the rule: lib/scopes.ts). */
import { scopesBeyondRequest } from '../../../lib/scopes';
import { VendorError, VendorFailureType } from '../errors';

export function assertGrantWithinRequested(
  vendor: string,
  requested: readonly string[],
  granted: readonly string[],
): void {
  const extra = scopesBeyondRequest(requested, granted);
  if (extra.length > 0) {
    throw new VendorError(
      VendorFailureType.OutsideCustomerControls,
      vendor,
      `grant broader than requested (extra: ${extra.join(', ')})`,
    );
  }
}
