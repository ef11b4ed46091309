/**
 * Slack's published rate limits, budgeted before each call so the happy path never meets a 429.
 * Slack counts per method, per app and workspace: Tier 2 20+/min, Tier 3 50+/min, Tier 4 100+/min;
 * `chat.postMessage` is "special": about one message a second per channel, short bursts allowed.
 * Each budget is a token bucket whose burst plus a minute of refill stays at the tier's floor, so
 * no sliding minute (or, for a channel, no five seconds) exceeds what Slack documents. A spent
 * budget is the same RateLimited failure a 429 is: the workflow waits it out with a durable timer.
 */
import type { BudgetPolicy } from '../../../db/vendorBudgets';
import { VendorError, VendorFailureType } from '../errors';
import { createLocalBuckets } from '../shared/localBuckets';

const VENDOR = 'slack';

export type SlackMethod = 'auth.test' | 'auth.revoke' | 'conversations.list' | 'chat.postMessage' | 'oauth.v2.access';

/** Requests per minute Slack guarantees for the methods we call (the tier's floor). */
export const SLACK_METHOD_TIERS: Record<Exclude<SlackMethod, 'chat.postMessage'>, number> = {
  'conversations.list': 20,
  'auth.revoke': 50,
  'auth.test': 100,
  'oauth.v2.access': 100,
};

/** chat.postMessage per channel: at most this many messages in any window of this length. */
export const SLACK_CHANNEL_PACE = { messages: 5, windowMs: 5_000 } as const;

export interface SlackBudgets {
  /** Takes one call of `method` for the workspace (and, for a message, the channel). */
  take(workspaceId: string, method: SlackMethod, channelId?: string): void;
}

/** A bucket whose burst plus a minute of refill stays at `perMinute`. */
function paced(perMinute: number, burst: number): BudgetPolicy {
  return { capacity: burst, refillPerSecond: (perMinute - burst) / 60 };
}

export function createSlackBudgets(now?: () => number): SlackBudgets {
  const buckets = createLocalBuckets(now);
  const perMethod = new Map<string, BudgetPolicy>(
    Object.entries(SLACK_METHOD_TIERS).map(([method, perMinute]) => [
      method,
      paced(perMinute, Math.max(1, Math.floor(perMinute / 4))),
    ]),
  );
  // One message, then one every 1.25 s: any 5 s window holds at most 1 + 4 = 5 (SLACK_CHANNEL_PACE).
  const perChannel: BudgetPolicy = {
    capacity: 1,
    refillPerSecond: (SLACK_CHANNEL_PACE.messages - 1) / (SLACK_CHANNEL_PACE.windowMs / 1000),
  };
  const take = (key: string, policy: BudgetPolicy) => {
    const waitMs = buckets.take(key, policy);
    if (waitMs > 0)
      throw new VendorError(VendorFailureType.RateLimited, VENDOR, 'Slack method budget spent', {
        source: 'budget',
        retryAfterMs: waitMs,
      });
  };
  return {
    take(workspaceId, method, channelId) {
      if (method === 'chat.postMessage') take(`${workspaceId}:channel:${channelId ?? ''}`, perChannel);
      else take(`${workspaceId}:${method}`, perMethod.get(method)!);
    },
  };
}
