/**
 * Drive push channels on the changes feed (`changes.watch`). A channel carries our endpoint's
 * secret as its `token`, which Drive echoes on every message (`X-Goog-Channel-Token`), and expires
 * after at most a week. Drive cannot extend a channel: renewal opens a new one (new id, same
 * address and token) and then stops the old one, so no change falls between the two. The
 * subscription's external id is `<channel id> <resource id>`, what `channels.stop` needs.
 */
import crypto from 'node:crypto';
import { VendorError, VendorFailureType } from '../errors';
import type { AuditedCall, ConnectorContext, Subscription } from '../types';
import { MAX_CHANNEL_LIFETIME_MS } from './descriptor';
import { googleRow } from './guards';
import type { GooglePlatform } from './platform';

export const CHANGES_CHANNEL_RESOURCE = 'changes';
/** Channels ask for one minute less than the maximum so clock skew cannot get them refused. */
const CHANNEL_SAFETY_MS = 60_000;
const SCOPE = 'drive.file';

const call = (operation: 'watch' | 'stop'): AuditedCall => ({ action: `channels.${operation}`, scope: SCOPE });

export async function registerWebhooks(
  platform: GooglePlatform,
  ctx: ConnectorContext,
  input: { callbackUrl: string; clientState: string },
): Promise<Subscription[]> {
  // Workspace sign-in has no feed to watch (its webhook scheme is `none`: never called for it).
  if (googleRow(ctx.vendor) !== 'google-drive') return [];
  return [await openChannel(platform, ctx, input)];
}

export async function renewSubscription(
  platform: GooglePlatform,
  ctx: ConnectorContext,
  subscription: Subscription,
  channel: { callbackUrl: string; clientState: string } | undefined,
): Promise<Subscription> {
  if (!channel)
    throw new VendorError(VendorFailureType.VendorRejected, ctx.vendor, 'a Drive channel is renewed with its endpoint');
  const opened = await openChannel(platform, ctx, channel);
  await deleteSubscription(platform, ctx, subscription);
  return opened;
}

/**
 * Stops a channel. Disconnect stops channels before it revokes the grant, since Google refuses the
 * stop of a revoked grant's channel (401). That 401 still comes when the user removed the app in
 * their Google Account first, or for a disconnect started before the reorder: the same step disables
 * our endpoint, so any message the channel still carries until it expires (a week at most) is
 * refused at the receiver. 404 (already expired or stopped) is the goal reached too.
 */
export async function deleteSubscription(
  platform: GooglePlatform,
  ctx: ConnectorContext,
  subscription: Subscription,
): Promise<void> {
  const [id, resourceId] = subscription.externalId.split(' ');
  await platform.driveCall(ctx, call('stop'), async (drive) => {
    try {
      await drive.channels.stop({ requestBody: { id, resourceId } });
    } catch (error) {
      const status = (error as { status?: number }).status;
      if (status !== 404 && status !== 401) throw error;
    }
  });
}

async function openChannel(
  platform: GooglePlatform,
  ctx: ConnectorContext,
  input: { callbackUrl: string; clientState: string },
): Promise<Subscription> {
  const { data: start } = await platform.driveCall(ctx, { action: 'changes.start-page-token', scope: SCOPE }, (drive) =>
    drive.changes.getStartPageToken({}),
  );
  const { data } = await platform.driveCall(ctx, call('watch'), (drive) =>
    drive.changes.watch({
      pageToken: start.startPageToken ?? undefined,
      includeRemoved: true,
      spaces: 'drive',
      requestBody: {
        id: crypto.randomUUID(),
        type: 'web_hook',
        address: input.callbackUrl,
        token: input.clientState,
        expiration: String(platform.now() + MAX_CHANNEL_LIFETIME_MS - CHANNEL_SAFETY_MS),
      },
    }),
  );
  if (!data.id || !data.resourceId)
    throw new VendorError(VendorFailureType.VendorUnavailable, ctx.vendor, 'channel opened without ids');
  return {
    externalId: `${data.id} ${data.resourceId}`,
    resource: CHANGES_CHANNEL_RESOURCE,
    expiresAt: data.expiration ? Number(data.expiration) : undefined,
  };
}
