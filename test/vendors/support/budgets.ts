/** Connector tests that make more calls than a vendor budget holds. */
import { VendorError, VendorFailureType } from '../../../activities/vendors/errors';

/**
 * Runs a connector call, waiting out our own budget on the emulator's clock as the sync workflow
 * waits it out on a durable timer (a vendor 429 is not retried here: the tests assert those).
 */
export async function waitingOutBudget<T>(run: () => Promise<T>, clock: { advance(ms: number): void }): Promise<T> {
  for (;;) {
    try {
      return await run();
    } catch (error) {
      const ours =
        error instanceof VendorError && error.type === VendorFailureType.RateLimited && !error.details.status;
      if (!ours) throw error;
      clock.advance(error.details.retryAfterMs ?? 1_000);
    }
  }
}
