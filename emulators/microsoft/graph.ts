/**
 * Microsoft Graph v1.0, the endpoints our Microsoft connectors call: drive/app-folder/site delta,
 * calendarView delta, uploads, site permissions (`Sites.Selected` grants nothing until the admin's
 * `POST /sites/{id}/permissions`), Teams channel metadata + channel messages, the chat list, sendMail, and change
 * notification subscriptions with validation handshake, per-resource maximum lifetimes, change and
 * lifecycle notifications. Error bodies follow Graph's `{ error: { code, message } }` shape.
 */
import crypto from 'node:crypto';
import { fetch, type Dispatcher } from 'undici';
import type { EmulatorClock } from '../shared/clock';
import {
  bearerToken,
  postDelivery,
  type EmulatorRequest,
  type EmulatorResponse,
  type EmulatorRouter,
} from '../shared/http';
import { DeltaCollection, DeltaTokens, type DeltaResult } from './delta';
import type { AccessGrant, IdentityPlatform } from './identity';

/** Maximum subscription lifetime per resource kind, in minutes (Graph subscription resource docs). */
export const MAX_SUBSCRIPTION_MINUTES = { driveItem: 42_300, outlook: 4_230, teams: 4_320, directory: 41_760 } as const;
/** Graph gives the notification endpoint 10 s to echo the validation token. */
const VALIDATION_TIMEOUT_MS = 10_000;

export type LifecycleEvent = 'reauthorizationRequired' | 'subscriptionRemoved' | 'missed';

export interface EmulatedSubscription {
  id: string;
  resource: string;
  changeType: string;
  notificationUrl: string;
  lifecycleNotificationUrl?: string;
  clientState?: string;
  expirationDateTime: string;
  applicationId: string;
}

interface Site {
  id: string;
  displayName: string;
  /** Client ids granted by the tenant admin through `POST /sites/{id}/permissions`. */
  grantedApps: Set<string>;
}

type Guarded = (request: EmulatorRequest, grant: AccessGrant) => EmulatorResponse | Promise<EmulatorResponse>;

export class GraphService {
  readonly collections = new Map<string, DeltaCollection>();
  readonly sites = new Map<string, Site>();
  readonly channels = new Map<string, Record<string, unknown>>();
  readonly channelMessages: { teamId: string; channelId: string; body: unknown }[] = [];
  readonly sentMail: unknown[] = [];
  readonly subscriptions = new Map<string, EmulatedSubscription>();
  /** Every change notification sent, with the status the receiver answered (Graph drops a 4xx). */
  readonly notificationsSent: { subscriptionId: string; clientState?: string; status: number }[] = [];
  readonly deltaTokens: DeltaTokens;
  deltaPageSize = 2;

  constructor(
    private readonly baseUrl: () => string,
    private readonly identity: IdentityPlatform,
    private readonly clock: EmulatorClock,
    /** Outbound deliveries and validation requests: trust the public CAs and the emulator's own test CA. */
    private readonly deliveries: Dispatcher,
  ) {
    this.deltaTokens = new DeltaTokens(() => this.deltaPageSize);
    this.collection('me/drive/root');
    this.collection('me/drive/special/approot');
    this.collection('me/events');
  }

  collection(key: string): DeltaCollection {
    let found = this.collections.get(key);
    if (!found) {
      found = new DeltaCollection(key, key === 'me/events' ? 'removed-annotation' : 'deleted-facet');
      this.collections.set(key, found);
    }
    return found;
  }

  seedSite(id: string, displayName: string): void {
    this.sites.set(id, { id, displayName, grantedApps: new Set() });
    this.collection(`sites/${id}/drive/root`);
  }

  seedChannel(teamId: string, channelId: string, displayName: string): void {
    const channel = {
      id: channelId,
      displayName,
      description: `${displayName} channel`,
      membershipType: 'standard',
      createdDateTime: new Date(this.clock.now()).toISOString(),
      webUrl: `https://teams.example/l/channel/${channelId}`,
    };
    this.channels.set(`${teamId}/${channelId}`, channel);
    this.collection(`teams/${teamId}/channels`).upsert(channelId, channel);
  }

  /** Writes an item and notifies the subscriptions on its collection, as Graph would. */
  async upsertItem(
    collectionKey: string,
    data: Record<string, unknown> & { id?: string },
  ): Promise<Record<string, unknown>> {
    const id = data.id ?? crypto.randomUUID();
    const previous = this.collection(collectionKey).items.get(id);
    const version = previous
      ? Number(
          String(previous.data.eTag ?? '"x,0"')
            .split(',')[1]
            ?.replace('"', ''),
        ) + 1
      : 1;
    const item = this.collection(collectionKey).upsert(id, {
      ...data,
      eTag: `"{${id}},${version}"`,
      lastModifiedDateTime: new Date(this.clock.now()).toISOString(),
    });
    await this.notify(collectionKey, previous ? 'updated' : 'created');
    return item.data;
  }

  async deleteItem(collectionKey: string, id: string): Promise<void> {
    if (this.collection(collectionKey).remove(id)) await this.notify(collectionKey, 'deleted');
  }

  async sendLifecycleNotification(subscriptionId: string, lifecycleEvent: LifecycleEvent): Promise<number> {
    const subscription = this.subscriptions.get(subscriptionId);
    if (!subscription) throw new Error(`no subscription ${subscriptionId}`);
    if (lifecycleEvent === 'subscriptionRemoved') this.subscriptions.delete(subscriptionId);
    const notification = {
      subscriptionId,
      subscriptionExpirationDateTime: subscription.expirationDateTime,
      tenantId: this.identity.tenantId,
      clientState: subscription.clientState,
      lifecycleEvent,
    };
    return postDelivery(
      subscription.lifecycleNotificationUrl ?? subscription.notificationUrl,
      JSON.stringify({ value: [notification] }),
      {},
      this.deliveries,
    );
  }

  register(router: EmulatorRouter): void {
    const guarded = (anyOf: string[], handler: Guarded) => (request: EmulatorRequest) =>
      this.guard(request, anyOf, handler);
    const driveRead = ['Files.Read'];
    const appFolder = ['Files.ReadWrite.AppFolder'];
    router
      .on(
        'GET',
        '/v1.0/me/drive',
        guarded(driveRead, () => ({ status: 200, body: { id: 'drive-user', driveType: 'business' } })),
      )
      .on(
        'GET',
        '/v1.0/me/drive/root/delta',
        guarded(driveRead, (request) => this.delta(request, 'me/drive/root')),
      )
      .on(
        'GET',
        '/v1.0/me/drive/special/approot',
        guarded(appFolder, () => ({
          status: 200,
          body: { id: 'approot', name: 'TrackProject', folder: {}, specialFolder: { name: 'approot' } },
        })),
      )
      .on(
        'GET',
        '/v1.0/me/drive/special/approot/delta',
        guarded(appFolder, (request) => this.delta(request, 'me/drive/special/approot')),
      )
      .on(
        'PUT',
        '/v1.0/me/drive/special/approot:/:name/content',
        guarded(appFolder, (request) => this.upload(request, 'me/drive/special/approot')),
      )
      .on(
        'GET',
        '/v1.0/me/calendarView/delta',
        guarded(['Calendars.Read'], (request) => this.delta(request, 'me/events')),
      )
      .on(
        'POST',
        '/v1.0/me/sendMail',
        guarded(['Mail.Send'], (request) => {
          this.sentMail.push(request.body);
          return { status: 202 };
        }),
      )
      .on(
        'POST',
        '/v1.0/sites/:siteId/permissions',
        guarded(['Sites.FullControl.All'], (request) => this.grantSite(request)),
      )
      .on(
        'GET',
        '/v1.0/sites/:siteId',
        this.siteGuarded(['Sites.Selected', 'Files.ReadWrite.Selected'], (request) => {
          const site = this.sites.get(request.params.siteId!)!;
          return {
            status: 200,
            body: {
              id: site.id,
              displayName: site.displayName,
              webUrl: `https://contoso.sharepoint.com/sites/${site.id}`,
            },
          };
        }),
      )
      .on(
        'GET',
        '/v1.0/sites/:siteId/drive/root/delta',
        this.siteGuarded(['Sites.Selected', 'Files.ReadWrite.Selected'], (request) =>
          this.delta(request, `sites/${request.params.siteId}/drive/root`),
        ),
      )
      .on(
        'PUT',
        '/v1.0/sites/:siteId/drive/root:/:name/content',
        this.siteGuarded(['Files.ReadWrite.Selected'], (request) =>
          this.upload(request, `sites/${request.params.siteId}/drive/root`),
        ),
      )
      .on(
        'GET',
        '/v1.0/teams/:teamId/channels/:channelId',
        guarded(CHANNEL_READ, (request) => {
          const channel = this.channels.get(`${request.params.teamId}/${request.params.channelId}`);
          return channel ? { status: 200, body: channel } : graphError(404, 'NotFound', 'Channel not found');
        }),
      )
      .on(
        'POST',
        '/v1.0/teams/:teamId/channels/:channelId/messages',
        guarded(['ChannelMessage.Send'], (request) => {
          const { teamId, channelId } = request.params as { teamId: string; channelId: string };
          if (!this.channels.has(`${teamId}/${channelId}`)) return graphError(404, 'NotFound', 'Channel not found');
          this.channelMessages.push({ teamId, channelId, body: request.body });
          return {
            status: 201,
            body: {
              id: crypto.randomUUID(),
              createdDateTime: new Date(this.clock.now()).toISOString(),
              messageType: 'message',
            },
          };
        }),
      )
      // "List chats": Chat.ReadBasic, Chat.Read or Chat.ReadWrite (delegated). The emulated user has no chats.
      .on(
        'GET',
        '/v1.0/me/chats',
        guarded(['Chat.ReadBasic', 'Chat.Read', 'Chat.ReadWrite'], () => ({
          status: 200,
          body: { '@odata.context': `${this.baseUrl()}/v1.0/$metadata#chats`, '@odata.count': 0, value: [] },
        })),
      )
      .on(
        'POST',
        '/v1.0/subscriptions',
        guarded([], (request, grant) => this.createSubscription(request, grant)),
      )
      .on(
        'GET',
        '/v1.0/subscriptions/:id',
        guarded([], (request) => {
          const subscription = this.activeSubscription(request.params.id!);
          return subscription
            ? { status: 200, body: subscription }
            : graphError(404, 'ResourceNotFound', 'The object was not found.');
        }),
      )
      .on(
        'PATCH',
        '/v1.0/subscriptions/:id',
        guarded([], (request) => this.renewSubscription(request)),
      )
      .on(
        'DELETE',
        '/v1.0/subscriptions/:id',
        guarded([], (request) => {
          const removed = this.subscriptions.delete(request.params.id!);
          return removed ? { status: 204 } : graphError(404, 'ResourceNotFound', 'The object was not found.');
        }),
      );
  }

  private guard(
    request: EmulatorRequest,
    anyOf: string[],
    handler: Guarded,
  ): EmulatorResponse | Promise<EmulatorResponse> {
    const grant = this.identity.authenticate(bearerToken(request));
    if (grant === 'expired')
      return graphError(401, 'InvalidAuthenticationToken', 'Access token has expired or is not yet valid.');
    if (typeof grant === 'string')
      return graphError(401, 'InvalidAuthenticationToken', 'Access token is empty or invalid.');
    if (anyOf.length > 0 && !anyOf.some((scope) => grant.scopes.includes(scope))) {
      return graphError(403, 'Authorization_RequestDenied', 'Insufficient privileges to complete the operation.');
    }
    return handler(request, grant);
  }

  /** `Sites.Selected` / `Files.ReadWrite.Selected` reach a site only after the admin granted it to this app. */
  private siteGuarded(anyOf: string[], handler: Guarded) {
    return (request: EmulatorRequest) =>
      this.guard(request, anyOf, (guardedRequest, grant) => {
        const site = this.sites.get(guardedRequest.params.siteId!);
        if (!site) return graphError(404, 'itemNotFound', 'Requested site could not be found');
        if (!site.grantedApps.has(grant.clientId)) return graphError(403, 'accessDenied', 'Access denied');
        return handler(guardedRequest, grant);
      });
  }

  private grantSite(request: EmulatorRequest): EmulatorResponse {
    const site = this.sites.get(request.params.siteId!);
    if (!site) return graphError(404, 'itemNotFound', 'Requested site could not be found');
    const body = request.body as
      { roles?: string[]; grantedToIdentities?: { application?: { id?: string; displayName?: string } }[] } | undefined;
    const application = body?.grantedToIdentities?.[0]?.application;
    if (!application?.id || !body?.roles?.length)
      return graphError(400, 'invalidRequest', 'roles and grantedToIdentities are required');
    site.grantedApps.add(application.id);
    return {
      status: 201,
      body: { id: crypto.randomUUID(), roles: body.roles, grantedToIdentitiesV2: [{ application }] },
    };
  }

  private delta(request: EmulatorRequest, collectionKey: string): EmulatorResponse {
    const isCalendar = collectionKey === 'me/events';
    const q = request.query;
    const cursor = q.get('$skiptoken') ?? q.get(isCalendar ? '$deltatoken' : 'token') ?? undefined;
    if (isCalendar && cursor === undefined && (!q.get('startDateTime') || !q.get('endDateTime'))) {
      return graphError(
        400,
        'ErrorInvalidParameter',
        'startDateTime and endDateTime are required for an initial calendarView delta',
      );
    }
    const result: DeltaResult = this.deltaTokens.page(this.collection(collectionKey), cursor);
    const resourceUrl = `${this.baseUrl()}${request.path}`;
    if (result.kind === 'expired') {
      const location = isCalendar
        ? `${resourceUrl}?startDateTime=${encodeURIComponent(q.get('startDateTime') ?? '')}&endDateTime=${encodeURIComponent(q.get('endDateTime') ?? '')}`
        : resourceUrl;
      return {
        status: 410,
        headers: { location },
        body: {
          error: {
            code: 'resyncRequired',
            message:
              'Resync required. Replace any local items with the server version and re-run delta without a token.',
          },
        },
      };
    }
    if (result.kind === 'unknown-token') return graphError(400, 'invalidRequest', 'Invalid or malformed delta token');
    const body: Record<string, unknown> = {
      '@odata.context': `${this.baseUrl()}/v1.0/$metadata#Collection(driveItem)`,
      value: result.value,
    };
    if (result.nextToken) body['@odata.nextLink'] = `${resourceUrl}?$skiptoken=${result.nextToken}`;
    if (result.deltaToken)
      body['@odata.deltaLink'] = `${resourceUrl}?${isCalendar ? '$deltatoken' : 'token'}=${result.deltaToken}`;
    return { status: 200, body };
  }

  private async upload(request: EmulatorRequest, collectionKey: string): Promise<EmulatorResponse> {
    // The route's `:name` segment keeps Graph's trailing colon (`approot:/{name}:/content`).
    const name = request.params.name!.replace(/:$/, '');
    const existing = [...this.collection(collectionKey).items.values()].find(
      (item) => !item.deleted && item.data.name === name,
    );
    const item = await this.upsertItem(collectionKey, {
      id: existing?.id,
      name,
      size: request.rawBody.length,
      file: {
        mimeType: request.headers['content-type'] ?? 'application/octet-stream',
        hashes: { sha256Hash: crypto.createHash('sha256').update(request.rawBody).digest('hex').toUpperCase() },
      },
      parentReference: { path: `/${collectionKey}` },
      webUrl: `https://contoso.sharepoint.com/${collectionKey}/${encodeURIComponent(name)}`,
    });
    return { status: existing ? 200 : 201, body: item };
  }

  private async createSubscription(request: EmulatorRequest, grant: AccessGrant): Promise<EmulatorResponse> {
    const body = (request.body ?? {}) as Partial<EmulatedSubscription>;
    const resource = (body.resource ?? '').replace(/^\//, '');
    const maxMinutes = maxSubscriptionMinutes(resource);
    if (!maxMinutes || !this.collections.has(resource))
      return graphError(400, 'InvalidRequest', 'Unsupported resource for subscriptions');
    const site = /^sites\/([^/]+)\/drive\/root$/.exec(resource)?.[1];
    if (
      !subscriptionPermissions(resource).some((scope) => grant.scopes.includes(scope)) ||
      (site !== undefined && !this.sites.get(site)?.grantedApps.has(grant.clientId))
    ) {
      return graphError(
        403,
        'ExtensionError',
        'Operation: Create; Exception: [Status Code: Forbidden; Reason: Insufficient privileges to subscribe to this resource]',
      );
    }
    // Graph delivers over https only, to loopback as to anywhere else.
    const isHttps = (url: string | undefined) => url?.startsWith('https://') === true;
    if (!isHttps(body.notificationUrl)) return graphError(400, 'InvalidRequest', 'notificationUrl must be https');
    if (body.lifecycleNotificationUrl !== undefined && !isHttps(body.lifecycleNotificationUrl))
      return graphError(400, 'InvalidRequest', 'lifecycleNotificationUrl must be https');
    const expiry = Date.parse(body.expirationDateTime ?? '');
    const expiryError = this.checkExpiry(expiry, maxMinutes);
    if (expiryError) return expiryError;
    for (const url of new Set(
      [body.notificationUrl, body.lifecycleNotificationUrl].filter((value): value is string => Boolean(value)),
    )) {
      if (!(await validateEndpoint(url, this.deliveries)))
        return graphError(
          400,
          'ValidationError',
          'Subscription validation request failed. Notification endpoint must respond with 200 OK to validation request.',
        );
    }
    const subscription: EmulatedSubscription = {
      id: crypto.randomUUID(),
      resource,
      changeType: body.changeType ?? 'updated',
      notificationUrl: body.notificationUrl!,
      lifecycleNotificationUrl: body.lifecycleNotificationUrl,
      clientState: body.clientState,
      expirationDateTime: new Date(expiry).toISOString(),
      applicationId: grant.clientId,
    };
    this.subscriptions.set(subscription.id, subscription);
    return { status: 201, body: subscription };
  }

  private renewSubscription(request: EmulatorRequest): EmulatorResponse {
    const subscription = this.activeSubscription(request.params.id!);
    if (!subscription) return graphError(404, 'ResourceNotFound', 'The object was not found.');
    const expiry = Date.parse((request.body as { expirationDateTime?: string } | undefined)?.expirationDateTime ?? '');
    const expiryError = this.checkExpiry(expiry, maxSubscriptionMinutes(subscription.resource)!);
    if (expiryError) return expiryError;
    subscription.expirationDateTime = new Date(expiry).toISOString();
    return { status: 200, body: subscription };
  }

  private checkExpiry(expiry: number, maxMinutes: number): EmulatorResponse | undefined {
    if (Number.isNaN(expiry) || expiry <= this.clock.now())
      return graphError(400, 'InvalidRequest', 'expirationDateTime must be in the future');
    if (expiry > this.clock.now() + maxMinutes * 60_000)
      return graphError(
        400,
        'InvalidRequest',
        `Subscription expiration can only be ${maxMinutes} minutes in the future.`,
      );
    return undefined;
  }

  /** Expired subscriptions are gone, as in Graph. */
  private activeSubscription(id: string): EmulatedSubscription | undefined {
    const subscription = this.subscriptions.get(id);
    return subscription && Date.parse(subscription.expirationDateTime) > this.clock.now() ? subscription : undefined;
  }

  private async notify(collectionKey: string, change: 'created' | 'updated' | 'deleted'): Promise<void> {
    // driveItem subscriptions support only `updated`, and Graph reports every drive change as one.
    const changeType = collectionKey === 'me/events' || collectionKey.startsWith('teams/') ? change : 'updated';
    const deliveries = [...this.subscriptions.values()]
      .filter(
        (subscription) =>
          subscription.resource === collectionKey &&
          subscription.changeType.split(',').includes(changeType) &&
          this.activeSubscription(subscription.id),
      )
      .map((subscription) =>
        postDelivery(
          subscription.notificationUrl,
          JSON.stringify({
            value: [
              {
                subscriptionId: subscription.id,
                subscriptionExpirationDateTime: subscription.expirationDateTime,
                changeType,
                resource: collectionKey,
                clientState: subscription.clientState,
                tenantId: this.identity.tenantId,
              },
            ],
          }),
          {},
          this.deliveries,
        ).then((status) => {
          this.notificationsSent.push({
            subscriptionId: subscription.id,
            clientState: subscription.clientState,
            status,
          });
        }),
      );
    await Promise.all(deliveries);
  }
}

/**
 * Channel metadata, read or subscribed to ("Get channel" and the change-notification permission table,
 * learn.microsoft.com/graph/api/channel-get, /graph/api/subscription-post-subscriptions): delegated
 * Channel.ReadBasic.All (least privileged) or higher. ChannelMessage.Send and Chat.ReadWrite do not cover
 * channels: Chat.* is for chats.
 */
const CHANNEL_READ = ['Channel.ReadBasic.All', 'ChannelSettings.Read.All', 'ChannelSettings.ReadWrite.All'];

/**
 * Permissions a subscription's resource needs: read access to it ("subscription operations require
 * read permission to the resource", change-notifications overview). Site drives also need the
 * app's per-site grant (checked by the caller).
 */
function subscriptionPermissions(resource: string): string[] {
  if (/^teams\/[^/]+\/channels$/.test(resource)) return CHANNEL_READ;
  if (resource === 'me/drive/root') return ['Files.Read', 'Files.ReadWrite', 'Files.Read.All', 'Files.ReadWrite.All'];
  if (resource === 'me/events') return ['Calendars.Read', 'Calendars.ReadWrite'];
  return ['Sites.Selected', 'Files.ReadWrite.Selected'];
}

/** Subscribable resources and their maximum lifetimes. OneDrive for Business: drive roots only, no folders (the app folder included). */
function maxSubscriptionMinutes(resource: string): number | undefined {
  if (/^(me\/drive\/root|sites\/[^/]+\/drive\/root)$/.test(resource)) return MAX_SUBSCRIPTION_MINUTES.driveItem;
  if (resource === 'me/events') return MAX_SUBSCRIPTION_MINUTES.outlook;
  if (/^teams\/[^/]+\/channels$/.test(resource)) return MAX_SUBSCRIPTION_MINUTES.teams;
  return undefined;
}

/** Graph's validation handshake: POST `?validationToken=…`, expect 200 text/plain echoing it, within 10 s. */
async function validateEndpoint(url: string, dispatcher: Dispatcher): Promise<boolean> {
  const token = `Validation: Testing client application reachability for subscription Request-Id: ${crypto.randomUUID()}`;
  const target = new URL(url);
  target.searchParams.set('validationToken', token);
  try {
    const response = await fetch(target, {
      method: 'POST',
      headers: { 'content-type': 'text/plain; charset=utf-8' },
      signal: AbortSignal.timeout(VALIDATION_TIMEOUT_MS),
      dispatcher,
    });
    const text = await response.text();
    return (
      response.status === 200 && (response.headers.get('content-type') ?? '').startsWith('text/plain') && text === token
    );
  } catch {
    return false;
  }
}

export function graphError(status: number, code: string, message: string): EmulatorResponse {
  return {
    status,
    body: {
      error: {
        code,
        message,
        innerError: {
          date: new Date().toISOString(),
          'request-id': crypto.randomUUID(),
          'client-request-id': crypto.randomUUID(),
        },
      },
    },
  };
}
