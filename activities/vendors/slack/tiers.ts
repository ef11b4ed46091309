/**
 * Slack's published rate limits, budgeted before each call so the happy path never meets a 429.
 * Slack counts per app, per Slack workspace (team) and per method: Tier 2 20+/min, Tier 3 50+/min,
 * Tier 4 100+/min; `chat.postMessage` is "special": about one message a second per channel, short
 * bursts allowed. Each budget is a token bucket whose burst plus a minute of refill stays at the
 * tier's floor, so no sliding minute (or, for a channel, no five seconds) exceeds what Slack
 * documents. The buckets are the worker's vendor budgets (`../shared/vendorBudgets.ts`), keyed inside
 * the team's account key, so every worker draws on one tier. A spent budget is the same RateLimited
 * failure a 429 is: the workflow waits it out with a durable timer.
 */
import type { BudgetPolicy } from '../../../db/vendorBudgets';
import { budgetKey, subBudgetKey, type VendorBudgets } from '../shared/vendorBudgets';
import type { ConnectorContext } from '../types';
import { slackDescriptor } from './descriptor';

const VENDOR = 'slack';

/** The Web API methods we call, each in its tier; chat.postMessage is paced per channel instead. */
export type SlackTieredMethod = 'auth.test' | 'auth.revoke' | 'conversations.list' | 'oauth.v2.access';

/** Requests per minute Slack guarantees for the methods we call (the tier's floor). */
export const SLACK_METHOD_TIERS: Record<SlackTieredMethod, number> = {
  'conversations.list': 20,
  'auth.revoke': 50,
  'auth.test': 100,
  'oauth.v2.access': 100,
};

/** chat.postMessage per channel: at most this many messages in any window of this length. */
export const SLACK_CHANNEL_PACE = { messages: 5, windowMs: 5_000 } as const;

export interface SlackBudgets {
  /** Takes one call of `method` from the Slack workspace's tier; throws RateLimited when it is spent. */
  method(ctx: Pick<ConnectorContext, 'workspaceId' | 'credential'>, method: SlackTieredMethod): Promise<void>;
  /** Takes one message from the channel's pace; throws RateLimited when it is spent. */
  message(ctx: Pick<ConnectorContext, 'workspaceId' | 'credential'>, channelId: string): Promise<void>;
}

/** A bucket whose burst plus a minute of refill stays at `perMinute`. */
function paced(perMinute: number, burst: number): BudgetPolicy {
  return { capacity: burst, refillPerSecond: (perMinute - burst) / 60 };
}

const PER_METHOD = Object.fromEntries(
  Object.entries(SLACK_METHOD_TIERS).map(([method, perMinute]) => [
    method,
    paced(perMinute, Math.max(1, Math.floor(perMinute / 4))),
  ]),
) as Record<SlackTieredMethod, BudgetPolicy>;

// One message, then one every 1.25 s: any 5 s window holds at most 1 + 4 = 5 (SLACK_CHANNEL_PACE).
const PER_CHANNEL: BudgetPolicy = {
  capacity: 1,
  refillPerSecond: (SLACK_CHANNEL_PACE.messages - 1) / (SLACK_CHANNEL_PACE.windowMs / 1000),
};

/** Slack's tiers and channel pace for our app `appId`, drawn from `budgets` (the worker's, shared). */
export function createSlackBudgets(appId: string, budgets: VendorBudgets): SlackBudgets {
  // The team's key (`countedPer: ['teamId']`), or the workspace's for a credential without a team.
  const teamKey = (ctx: Pick<ConnectorContext, 'workspaceId' | 'credential'>) =>
    budgetKey({ family: VENDOR, id: appId }, slackDescriptor.rateLimit, ctx);
  return {
    method: (ctx, method) => budgets.take(VENDOR, subBudgetKey(teamKey(ctx), 'method', method), PER_METHOD[method]),
    message: (ctx, channelId) => budgets.take(VENDOR, subBudgetKey(teamKey(ctx), 'channel', channelId), PER_CHANNEL),
  };
}
