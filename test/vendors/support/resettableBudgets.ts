/**
 * The connector tests' vendor budgets: the process's own (as without a store), with `reset()` for
 * tests that leave a key blocked by a vendor's long Retry-After, so later tests on the same
 * installation, site or tenant are not refused by it.
 */
import { createLocalVendorBudgets, type VendorBudgets } from '../../../activities/vendors/shared';

export interface ResettableBudgets extends VendorBudgets {
  reset(): void;
}

export function resettableBudgets(): ResettableBudgets {
  let budgets = createLocalVendorBudgets();
  return {
    take: (...args) => budgets.take(...args),
    block: (...args) => budgets.block(...args),
    reset: () => {
      budgets = createLocalVendorBudgets();
    },
  };
}
