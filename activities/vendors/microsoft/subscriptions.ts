/**
 * Graph change-notification subscriptions: which resources each row subscribes to, and their
 * creation, renewal and deletion. Teams, OneDrive and Entra subscribe to nothing (see `targetsOf`).
 */
import { GraphError } from '@microsoft/microsoft-graph-client';
import type { AuditedCall, ConnectorContext, Subscription } from '../types';
import { MAX_SUBSCRIPTION_MINUTES, microsoftDescriptors } from './descriptor';
import { microsoftRow, selectedSites } from './guards';
import type { MicrosoftPlatform } from './platform';

/** Subscriptions ask for one minute less than the maximum so clock skew cannot get them refused. */
const SUBSCRIPTION_SAFETY_MS = 60_000;
const CALENDAR_RESOURCE = 'me/events';

interface SubscriptionTarget {
  resource: string;
  changeType: string;
  maxMinutes: number;
}

export async function registerWebhooks(
  platform: MicrosoftPlatform,
  ctx: ConnectorContext,
  input: { callbackUrl: string; clientState: string },
): Promise<Subscription[]> {
  const subscriptions: Subscription[] = [];
  const notificationUrl = platform.notificationUrlFor(input.callbackUrl);
  for (const target of targetsOf(ctx)) {
    const created = await platform.graphCall(ctx, subscriptionCall(ctx, 'create'), (client) =>
      client.api('/subscriptions').post({
        changeType: target.changeType,
        notificationUrl,
        lifecycleNotificationUrl: notificationUrl,
        resource: target.resource,
        expirationDateTime: expiryFor(platform, target.maxMinutes),
        clientState: input.clientState,
      }),
    );
    subscriptions.push({
      externalId: created.id,
      resource: created.resource,
      expiresAt: Date.parse(created.expirationDateTime),
    });
  }
  return subscriptions;
}

export async function renewSubscription(
  platform: MicrosoftPlatform,
  ctx: ConnectorContext,
  subscription: Subscription,
): Promise<Subscription> {
  const renewed = await platform.graphCall(ctx, subscriptionCall(ctx, 'renew'), (client) =>
    client
      .api(`/subscriptions/${encodeURIComponent(subscription.externalId)}`)
      .patch({ expirationDateTime: expiryFor(platform, maxMinutesOf(subscription.resource)) }),
  );
  return { ...subscription, expiresAt: Date.parse(renewed.expirationDateTime) };
}

export async function deleteSubscription(
  platform: MicrosoftPlatform,
  ctx: ConnectorContext,
  subscription: Subscription,
): Promise<void> {
  await platform.graphCall(ctx, subscriptionCall(ctx, 'delete'), async (client) => {
    try {
      await client.api(`/subscriptions/${encodeURIComponent(subscription.externalId)}`).delete();
    } catch (error) {
      // Already expired or removed by Graph: the goal (no subscription) holds.
      if (!(error instanceof GraphError && error.statusCode === 404)) throw error;
    }
  });
}

/** Audited under the row's first required scope: the one the subscribed resource is read with. */
function subscriptionCall(ctx: ConnectorContext, operation: 'create' | 'renew' | 'delete'): AuditedCall {
  return {
    action: `subscription.${operation}`,
    scope: microsoftDescriptors[microsoftRow(ctx.vendor)].scopes.required[0]!,
  };
}

function targetsOf(ctx: ConnectorContext): SubscriptionTarget[] {
  const drive = (resource: string): SubscriptionTarget => ({
    resource,
    changeType: 'updated',
    maxMinutes: MAX_SUBSCRIPTION_MINUTES.driveItem,
  });
  switch (microsoftRow(ctx.vendor)) {
    case 'microsoft365':
      return [
        drive('me/drive/root'),
        {
          resource: CALENDAR_RESOURCE,
          changeType: 'created,updated,deleted',
          maxMinutes: MAX_SUBSCRIPTION_MINUTES.outlook,
        },
      ];
    case 'sharepoint':
      return selectedSites(ctx).map((siteId) => drive(`sites/${siteId}/drive/root`));
    case 'onedrive': // business drives take subscriptions at the root only, outside the app folder
    case 'teams': // channel subscriptions need Channel.ReadBasic.All, which the matrix does not list
    case 'entra':
      return [];
  }
}

function maxMinutesOf(resource: string): number {
  return resource === CALENDAR_RESOURCE ? MAX_SUBSCRIPTION_MINUTES.outlook : MAX_SUBSCRIPTION_MINUTES.driveItem;
}

function expiryFor(platform: MicrosoftPlatform, maxMinutes: number): string {
  return new Date(platform.now() + maxMinutes * 60_000 - SUBSCRIPTION_SAFETY_MS).toISOString();
}
