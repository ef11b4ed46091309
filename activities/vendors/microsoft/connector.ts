/**
 * One Connector for the five Microsoft rows. The rows share the identity platform (MSAL: auth code +
 * PKCE S256, rotating refresh tokens) and Graph (delta sync, subscriptions); they differ in scopes,
 * resources and the T18 control each one enforces here, before any request leaves:
 * SharePoint → admin-selected sites, Teams → admin-selected channels, OneDrive → the app folder.
 * Teams reads nothing from Graph (its matrix scopes cannot read channels); it only posts messages.
 * Every vendor call runs inside `ctx.audit` (T10), including the ones refused by a control.
 */
import { AuthError, ServerError } from '@azure/msal-node';
import { GraphError, type Client } from '@microsoft/microsoft-graph-client';
import { createLocalJWKSet, jwtVerify } from 'jose';
import { fetch as undiciFetch } from 'undici';
import { VendorError, VendorFailureType, classifyHttpStatus } from '../errors';
import { assertGrantWithinRequested, createRateBudget, createVendorCall } from '../shared';
import type {
  AuditedCall,
  Connector,
  ConnectorContext,
  SourceRecord,
  Subscription,
  SyncPage,
  TokenSet,
  VendorId,
} from '../types';
import {
  GRAPH_BASE_URL,
  LOGIN_BASE_URL,
  cachedRefreshToken,
  createDispatcher,
  createGraphClient,
  createMsalClient,
  type MicrosoftEndpoints,
} from './client';
import {
  MAX_SUBSCRIPTION_MINUTES,
  MICROSOFT_VENDOR_IDS,
  isMicrosoftVendor,
  microsoftDescriptors,
  type MicrosoftVendorId,
} from './descriptor';

export interface MicrosoftConnectorOptions {
  clientId: string;
  clientSecret: string;
  /** Tenant id, or `organizations` for multi-tenant sign-in. */
  tenantId: string;
  graphBaseUrl?: string;
  loginBaseUrl?: string;
  caCert?: string;
  now?: () => number;
}

/**
 * Protocol scope for refresh tokens: grants no data, only lets us refresh instead of re-prompting.
 * Entra sign-in needs none (identity is read once at sign-in).
 */
export const REFRESH_PROTOCOL_SCOPE = 'offline_access';
/** Subscriptions ask for one minute less than the maximum so clock skew cannot get them refused. */
const SUBSCRIPTION_SAFETY_MS = 60_000;
/** On-demand calendar window for the initial calendarView delta: last 30 days to next 180 days. */
const CALENDAR_PAST_MS = 30 * 24 * 60 * 60 * 1000;
const CALENDAR_FUTURE_MS = 180 * 24 * 60 * 60 * 1000;
/** A file name we write must be one plain segment: no path can leave the app folder or the site's drive root. */
// eslint-disable-next-line no-control-regex -- control characters are exactly what the name must not contain
const SAFE_FILE_NAME = /^(?!\.{1,2}$)[^/\\:*?"<>|#%\u0000-\u001f]{1,200}$/;

interface SubscriptionTarget {
  resource: string;
  changeType: string;
  maxMinutes: number;
}

/**
 * SharePoint's one sync resource walks the admin's sites in turn, each on its own delta link, the
 * way GitHub's cursor walks the installed repositories. The selection is re-read when a round starts.
 */
interface SiteWalkCursor {
  sites: string[];
  /** The site being paged; a round completes when every site reached its delta link. */
  index: number;
  /** Per site: its next link mid-round, its delta link once paged to the end. */
  links: Record<string, string>;
  inRound: boolean;
}

interface DeltaPage {
  records: SourceRecord[];
  deletedExternalIds: string[];
  nextLink?: string;
  deltaLink?: string;
}

export function createMicrosoftConnector(options: MicrosoftConnectorOptions): Connector {
  const endpoints: MicrosoftEndpoints = {
    graphBaseUrl: (options.graphBaseUrl ?? GRAPH_BASE_URL).replace(/\/$/, ''),
    loginBaseUrl: (options.loginBaseUrl ?? LOGIN_BASE_URL).replace(/\/$/, ''),
    caCert: options.caCert,
  };
  const dispatcher = createDispatcher(endpoints.caCert);
  const now = options.now ?? Date.now;
  const app = { clientId: options.clientId, clientSecret: options.clientSecret, tenantId: options.tenantId };
  // Graph throttles per app and tenant, whichever row calls: one budget per workspace for all rows.
  const vendorCall = createVendorCall({
    budget: createRateBudget({
      vendor: 'microsoft',
      requestsPerMinute: microsoftDescriptors.microsoft365.rateLimit.requestsPerMinute,
      now,
    }),
    mapError: (error) => toVendorError('microsoft', error),
  });

  function row(vendor: VendorId): MicrosoftVendorId {
    if (!isMicrosoftVendor(vendor))
      throw new VendorError(VendorFailureType.VendorRejected, vendor, 'not a Microsoft integration');
    return vendor;
  }

  function refused(vendor: string, reason: string): VendorError {
    return new VendorError(VendorFailureType.OutsideCustomerControls, vendor, reason);
  }

  /** Runs one Graph call inside the audit, with the SDK's errors mapped to the shared failure types. */
  function graphCall<T>(
    ctx: ConnectorContext,
    call: AuditedCall,
    run: (client: Client) => Promise<T>,
    precheck?: () => void,
  ): Promise<T> {
    return vendorCall({ audit: ctx.audit, workspaceId: ctx.workspaceId }, call, async () => {
      precheck?.();
      return run(createGraphClient(endpoints, dispatcher, ctx.credential.accessToken));
    });
  }

  /** What the authorize URL asks for: the row's scopes, plus the refresh protocol scope for Graph rows. */
  function requestableScopes(vendor: MicrosoftVendorId, chosen: readonly string[]): string[] {
    return vendor === 'entra' ? [...chosen] : [...chosen, REFRESH_PROTOCOL_SCOPE];
  }

  async function tokenSetFrom(
    vendor: MicrosoftVendorId,
    result: { accessToken: string; expiresOn: Date | null; scopes: string[]; idToken?: string; tenantId?: string },
    refreshToken: string | undefined,
  ): Promise<TokenSet> {
    // T1: never more than the row allows (the optional Mail.Send included only if it was chosen).
    const { required, optional } = microsoftDescriptors[vendor].scopes;
    assertGrantWithinRequested(vendor, requestableScopes(vendor, [...required, ...optional]), result.scopes);
    const metadata: Record<string, string> = { tenantId: result.tenantId || app.tenantId };
    if (vendor === 'entra') Object.assign(metadata, await verifiedIdentity(result.idToken));
    // Recorded as the row's data scopes: offline_access is a protocol scope, not a permission to compare (T1).
    const grantedScopes = result.scopes.filter((scope) => scope !== REFRESH_PROTOCOL_SCOPE);
    return {
      accessToken: result.accessToken,
      refreshToken,
      expiresAt: result.expiresOn?.getTime(),
      grantedScopes,
      metadata,
    };
  }

  /** Entra sign-in: the ID token's signature, issuer and audience checked against the tenant's JWKS. */
  async function verifiedIdentity(idToken: string | undefined): Promise<Record<string, string>> {
    if (!idToken)
      throw new VendorError(VendorFailureType.VendorRejected, 'entra', 'no ID token in the sign-in response');
    const authority = `${endpoints.loginBaseUrl}/${app.tenantId}`;
    const response = await undiciFetch(`${authority}/discovery/v2.0/keys`, { dispatcher });
    if (!response.ok) throw classifyHttpStatus('entra', response.status, 'JWKS unavailable');
    const jwks = createLocalJWKSet((await response.json()) as Parameters<typeof createLocalJWKSet>[0]);
    const { payload } = await jwtVerify(idToken, jwks, { issuer: `${authority}/v2.0`, audience: app.clientId }).catch(
      () => {
        throw new VendorError(VendorFailureType.VendorRejected, 'entra', 'ID token failed verification');
      },
    );
    const groups = Array.isArray(payload.groups)
      ? payload.groups.filter((group): group is string => typeof group === 'string')
      : [];
    // Opaque ids only: name and e-mail stay in the ID token the sign-in flow reads, never in metadata.
    return { objectId: String(payload.oid ?? ''), subject: String(payload.sub ?? ''), groups: groups.join(',') };
  }

  function subscriptionTargets(ctx: ConnectorContext, vendor: MicrosoftVendorId): SubscriptionTarget[] {
    const drive = (resource: string): SubscriptionTarget => ({
      resource,
      changeType: 'updated',
      maxMinutes: MAX_SUBSCRIPTION_MINUTES.driveItem,
    });
    switch (vendor) {
      case 'microsoft365':
        return [
          drive('me/drive/root'),
          {
            resource: 'me/events',
            changeType: 'created,updated,deleted',
            maxMinutes: MAX_SUBSCRIPTION_MINUTES.outlook,
          },
        ];
      case 'sharepoint':
        return selected(ctx, 'sites').map((siteId) => drive(`sites/${siteId}/drive/root`));
      case 'onedrive': // business drives take subscriptions at the root only, outside the app folder
      case 'teams': // channel subscriptions need Channel.ReadBasic.All, which the matrix does not list
      case 'entra':
        return [];
    }
  }

  function maxMinutesOf(resource: string): number {
    if (resource === 'me/events') return MAX_SUBSCRIPTION_MINUTES.outlook;
    return MAX_SUBSCRIPTION_MINUTES.driveItem;
  }

  function expiryFor(maxMinutes: number): string {
    return new Date(now() + maxMinutes * 60_000 - SUBSCRIPTION_SAFETY_MS).toISOString();
  }

  /** Where a sync resource's first delta request goes (SharePoint sites: `siteDeltaStart`). */
  function deltaStart(vendor: MicrosoftVendorId, resource: string): string {
    if (vendor === 'microsoft365' && resource === 'drive-items') return '/me/drive/root/delta';
    if (vendor === 'microsoft365' && resource === 'calendar-events') {
      return `/me/calendarView/delta?startDateTime=${new Date(now() - CALENDAR_PAST_MS).toISOString()}&endDateTime=${new Date(now() + CALENDAR_FUTURE_MS).toISOString()}`;
    }
    if (vendor === 'onedrive' && resource === 'app-folder-items') return '/me/drive/special/approot/delta';
    throw refused(vendor, `resource ${resource} is not in the matrix row`);
  }

  function siteDeltaStart(ctx: ConnectorContext, siteId: string): string {
    if (!selected(ctx, 'sites').includes(siteId))
      throw refused('sharepoint', 'site not selected by the workspace admin');
    return `/sites/${encodeURIComponent(siteId)}/drive/root/delta`;
  }

  /** A stored cursor must be a Graph link for the same resource: tokens never go anywhere else. */
  function assertCursorFor(vendor: MicrosoftVendorId, cursor: string, startPath: string): void {
    const expectedPrefix = `${endpoints.graphBaseUrl}/v1.0${startPath.split('?')[0]}`;
    if (!cursor.startsWith(`${expectedPrefix}?`)) throw refused(vendor, 'cursor does not belong to this resource');
  }

  /**
   * One Graph delta page: from the stored link (which must belong to the start path) or from the
   * start of a round. `startPath` runs inside the audited call, so refusals are audited too.
   */
  async function deltaPage(
    ctx: ConnectorContext,
    vendor: MicrosoftVendorId,
    resource: string,
    link: string | null,
    startPath: () => string,
    externalIdPrefix = '',
  ): Promise<DeltaPage> {
    let path = '';
    const page = await graphCall(
      ctx,
      { action: `delta.${resource}`, scope: microsoftDescriptors[vendor].scopes.required[0]! },
      (client) =>
        client.api(path).get() as Promise<{
          value?: Record<string, unknown>[];
          '@odata.nextLink'?: string;
          '@odata.deltaLink'?: string;
        }>,
      () => {
        const start = startPath();
        if (link) assertCursorFor(vendor, link, start);
        path = link ?? start;
      },
    );
    const records: SourceRecord[] = [];
    const deletedExternalIds: string[] = [];
    for (const item of page.value ?? []) {
      const externalId = `${externalIdPrefix}${String(item.id)}`;
      // driveItem deletions carry a `deleted` facet; events and directory objects `@removed`.
      if (item.deleted || item['@removed']) deletedExternalIds.push(externalId);
      else records.push({ resource, externalId, version: versionOf(item), payload: item });
    }
    return { records, deletedExternalIds, nextLink: page['@odata.nextLink'], deltaLink: page['@odata.deltaLink'] };
  }

  /** SharePoint: one page of the current site of the walk. Item ids are unique per drive only, so ids carry the site. */
  async function siteWalkPage(ctx: ConnectorContext, cursorText: string | null): Promise<SyncPage> {
    const walk: SiteWalkCursor = cursorText
      ? (JSON.parse(cursorText) as SiteWalkCursor)
      : { sites: [], index: 0, links: {}, inRound: false };
    if (!walk.inRound) {
      walk.sites = [...selected(ctx, 'sites')];
      walk.links = Object.fromEntries(Object.entries(walk.links).filter(([siteId]) => walk.sites.includes(siteId)));
      walk.index = 0;
      walk.inRound = true;
    }
    const siteId = walk.sites[walk.index];
    if (siteId !== undefined) {
      const page = await deltaPage(
        ctx,
        'sharepoint',
        'site-drive-items',
        walk.links[siteId] ?? null,
        () => siteDeltaStart(ctx, siteId),
        `${siteId}/`,
      );
      walk.links[siteId] = (page.nextLink ?? page.deltaLink)!;
      if (page.deltaLink) walk.index += 1;
      walk.inRound = walk.index < walk.sites.length;
      return {
        records: page.records,
        deletedExternalIds: page.deletedExternalIds,
        nextCursor: JSON.stringify(walk),
        roundComplete: !walk.inRound,
      };
    }
    walk.inRound = false;
    return { records: [], deletedExternalIds: [], nextCursor: JSON.stringify(walk), roundComplete: true };
  }

  async function sendMail(
    ctx: ConnectorContext,
    action: string,
    input: Record<string, unknown>,
  ): Promise<Record<string, unknown>> {
    const to = stringList(input.to);
    const subject = String(input.subject ?? '');
    const content =
      action === 'document-link'
        ? `${String(input.text ?? '')}\n${String(input.documentUrl ?? '')}`
        : String(input.text ?? '');
    await graphCall(
      ctx,
      { action: `mail.send.${action}`, scope: 'Mail.Send' },
      (client) =>
        client.api('/me/sendMail').post({
          message: {
            subject,
            body: { contentType: 'Text', content },
            toRecipients: to.map((address) => ({ emailAddress: { address } })),
          },
          saveToSentItems: false,
        }),
      () => {
        if (!ctx.credential.grantedScopes.includes('Mail.Send'))
          throw new VendorError(
            VendorFailureType.MissingScope,
            ctx.vendor,
            'Mail.Send was not granted (optional scope)',
          );
        if (to.length === 0) throw new VendorError(VendorFailureType.VendorRejected, ctx.vendor, 'no recipients');
      },
    );
    return { sent: true, recipients: to.length };
  }

  async function upload(
    ctx: ConnectorContext,
    call: AuditedCall,
    path: (fileName: string) => string,
    input: Record<string, unknown>,
    precheck: () => void,
  ): Promise<Record<string, unknown>> {
    const fileName = String(input.fileName ?? '');
    const item = await graphCall(
      ctx,
      call,
      (client) =>
        client
          .api(path(fileName))
          .header('Content-Type', String(input.contentType ?? 'application/octet-stream'))
          .put(Buffer.from(String(input.contentBase64 ?? ''), 'base64')),
      () => {
        precheck();
        if (!SAFE_FILE_NAME.test(fileName)) throw refused(ctx.vendor, 'file name must be a single plain segment');
      },
    );
    return { itemId: item.id, webUrl: item.webUrl };
  }

  return {
    vendors: MICROSOFT_VENDOR_IDS,

    authorizeUrl(vendor, request) {
      const id = row(vendor);
      const descriptor = microsoftDescriptors[id];
      const allowed = new Set([...descriptor.scopes.required, ...descriptor.scopes.optional]);
      const missing = descriptor.scopes.required.filter((scope) => !request.scopes.includes(scope));
      const extra = request.scopes.filter((scope) => !allowed.has(scope));
      if (missing.length > 0 || extra.length > 0) throw refused(id, 'requested scopes differ from the matrix row');
      if (!request.codeChallenge)
        throw new VendorError(VendorFailureType.VendorRejected, id, 'PKCE S256 challenge required');
      const scopes = requestableScopes(id, request.scopes);
      const url = new URL(`${endpoints.loginBaseUrl}/${app.tenantId}/oauth2/v2.0/authorize`);
      url.search = new URLSearchParams({
        client_id: app.clientId,
        response_type: 'code',
        response_mode: 'query',
        redirect_uri: request.redirectUri,
        scope: scopes.join(' '),
        state: request.state,
        code_challenge: request.codeChallenge,
        code_challenge_method: 'S256',
      }).toString();
      return url.toString();
    },

    async exchangeCode(vendor, input) {
      const id = row(vendor);
      const scopes = microsoftDescriptors[id].scopes.required;
      return vendorCall(
        { audit: input.audit },
        { action: 'oauth.exchange-code', scope: scopes.join(' ') },
        async () => {
          const msal = createMsalClient(endpoints, dispatcher, app);
          const result = await msal
            .acquireTokenByCode({
              code: input.code,
              redirectUri: input.redirectUri,
              scopes: [...scopes],
              codeVerifier: input.codeVerifier,
            })
            .catch((error: unknown) => {
              throw toVendorError(id, error, VendorFailureType.VendorRejected);
            });
          return tokenSetFrom(id, result, cachedRefreshToken(msal));
        },
      );
    },

    async refresh(ctx) {
      const id = row(ctx.vendor);
      const refreshToken = ctx.credential.refreshToken;
      return vendorCall(
        { audit: ctx.audit, workspaceId: ctx.workspaceId },
        { action: 'oauth.refresh', scope: REFRESH_PROTOCOL_SCOPE },
        async () => {
          if (!refreshToken)
            throw new VendorError(VendorFailureType.ReauthorizationRequired, id, 'no refresh token stored');
          const msal = createMsalClient(endpoints, dispatcher, app);
          const result = await msal
            .acquireTokenByRefreshToken({ refreshToken, scopes: ctx.credential.grantedScopes })
            .catch((error: unknown) => {
              throw toVendorError(id, error, VendorFailureType.ReauthorizationRequired);
            });
          if (!result)
            throw new VendorError(VendorFailureType.ReauthorizationRequired, id, 'refresh returned no token');
          // Rotation: the new refresh token replaces the old; Entra does not revoke the old one.
          return tokenSetFrom(id, result, cachedRefreshToken(msal) ?? refreshToken);
        },
      );
    },

    async testConnection(ctx) {
      const id = row(ctx.vendor);
      switch (id) {
        case 'microsoft365':
          await graphCall(ctx, { action: 'drive.get', scope: 'Files.Read' }, (client) =>
            client.api('/me/drive').select('id').get(),
          );
          return;
        case 'onedrive':
          await graphCall(ctx, { action: 'approot.get', scope: 'Files.ReadWrite.AppFolder' }, (client) =>
            client.api('/me/drive/special/approot').select('id').get(),
          );
          return;
        case 'sharepoint':
          // Each selected site answers only once the admin has granted it (Sites.Selected).
          for (const siteId of selected(ctx, 'sites')) {
            await graphCall(ctx, { action: 'site.get', scope: 'Sites.Selected' }, (client) =>
              client
                .api(`/sites/${encodeURIComponent(siteId)}`)
                .select('id')
                .get(),
            );
          }
          return;
        case 'teams':
          // The cheapest call its matrix scopes allow ("List chats" takes Chat.ReadWrite); the chats are not kept.
          await graphCall(ctx, { action: 'chats.list', scope: 'Chat.ReadWrite' }, (client) =>
            client.api('/me/chats').top(1).get(),
          );
          return;
        case 'entra':
          await graphCall(ctx, { action: 'oidc.userinfo', scope: 'openid' }, (client) =>
            client.api(`${endpoints.graphBaseUrl}/oidc/userinfo`).get(),
          );
          return;
      }
    },

    async revoke(ctx) {
      // Nothing to call: Microsoft has no revocation endpoint. The caller deletes tokens and subscriptions.
      return { revoked: false, note: microsoftDescriptors[row(ctx.vendor)].revocation.note };
    },

    async registerWebhooks(ctx, input) {
      const id = row(ctx.vendor);
      const subscriptions: Subscription[] = [];
      for (const target of subscriptionTargets(ctx, id)) {
        const created = await graphCall(
          ctx,
          { action: 'subscription.create', scope: microsoftDescriptors[id].scopes.required[0]! },
          (client) =>
            client.api('/subscriptions').post({
              changeType: target.changeType,
              notificationUrl: input.callbackUrl,
              lifecycleNotificationUrl: input.callbackUrl,
              resource: target.resource,
              expirationDateTime: expiryFor(target.maxMinutes),
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
    },

    async renewSubscription(ctx, subscription) {
      const id = row(ctx.vendor);
      const renewed = await graphCall(
        ctx,
        { action: 'subscription.renew', scope: microsoftDescriptors[id].scopes.required[0]! },
        (client) =>
          client
            .api(`/subscriptions/${encodeURIComponent(subscription.externalId)}`)
            .patch({ expirationDateTime: expiryFor(maxMinutesOf(subscription.resource)) }),
      );
      return { ...subscription, expiresAt: Date.parse(renewed.expirationDateTime) };
    },

    async deleteSubscription(ctx, subscription) {
      const id = row(ctx.vendor);
      await graphCall(
        ctx,
        { action: 'subscription.delete', scope: microsoftDescriptors[id].scopes.required[0]! },
        async (client) => {
          try {
            await client.api(`/subscriptions/${encodeURIComponent(subscription.externalId)}`).delete();
          } catch (error) {
            // Already expired or removed by Graph: the goal (no subscription) holds.
            if (!(error instanceof GraphError && error.statusCode === 404)) throw error;
          }
        },
      );
    },

    async fetchPage(ctx, input) {
      const id = row(ctx.vendor);
      if (id === 'sharepoint' && input.resource === 'site-drive-items') return siteWalkPage(ctx, input.cursor);
      const page = await deltaPage(ctx, id, input.resource, input.cursor, () => deltaStart(id, input.resource));
      return {
        records: page.records,
        deletedExternalIds: page.deletedExternalIds,
        nextCursor: page.nextLink ?? page.deltaLink ?? null,
        roundComplete: Boolean(page.deltaLink),
      };
    },

    async perform(ctx, action, input) {
      const id = row(ctx.vendor);
      if (!microsoftDescriptors[id].dataOut.includes(action)) {
        // Refused before any request, and still recorded (T10, T19).
        return ctx.audit({ action: `data-out.${action}`, scope: 'none' }, async () => {
          throw refused(id, `data out "${action}" is not in the matrix row`);
        });
      }
      if (id === 'microsoft365') return sendMail(ctx, action, input);
      if (id === 'sharepoint') {
        const siteId = String(input.siteId ?? '');
        return upload(
          ctx,
          { action: 'site.upload', scope: 'Files.ReadWrite.Selected' },
          (fileName) => `/sites/${encodeURIComponent(siteId)}/drive/root:/${encodeURIComponent(fileName)}:/content`,
          input,
          () => {
            if (!selected(ctx, 'sites').includes(siteId)) throw refused(id, 'site not selected by the workspace admin');
          },
        );
      }
      if (id === 'onedrive') {
        return upload(
          ctx,
          { action: 'approot.upload', scope: 'Files.ReadWrite.AppFolder' },
          (fileName) => `/me/drive/special/approot:/${encodeURIComponent(fileName)}:/content`,
          input,
          () => undefined,
        );
      }
      const teamId = String(input.teamId ?? '');
      const channelId = String(input.channelId ?? '');
      const message = await graphCall(
        ctx,
        { action: `teams.message.${action}`, scope: 'ChannelMessage.Send' },
        (client) =>
          client
            .api(`/teams/${encodeURIComponent(teamId)}/channels/${encodeURIComponent(channelId)}/messages`)
            .post({ body: { contentType: 'html', content: String(input.html ?? '') } }),
        () => {
          if (!selectedChannels(ctx).some((channel) => channel.teamId === teamId && channel.channelId === channelId))
            throw refused(id, 'channel not selected by the workspace admin');
        },
      );
      return { messageId: message.id };
    },
  };
}

/** Maps Graph SDK and MSAL errors to the shared failure types; messages carry codes, never payloads. */
export function toVendorError(
  vendor: string,
  error: unknown,
  oauthFailure: VendorFailureType = VendorFailureType.ReauthorizationRequired,
): unknown {
  if (error instanceof VendorError) return error;
  if (error instanceof GraphError) {
    if (error.statusCode <= 0) return new VendorError(VendorFailureType.VendorUnavailable, vendor, 'network failure');
    return classifyHttpStatus(vendor, error.statusCode, error.code ?? 'graph error', error.headers?.get('retry-after'));
  }
  if (error instanceof ServerError) {
    // invalid_grant: a bad code/verifier at exchange, an expired or revoked refresh token at refresh.
    const type =
      error.errorCode === 'invalid_grant'
        ? oauthFailure
        : error.errorCode === 'invalid_client'
          ? VendorFailureType.VendorRejected
          : VendorFailureType.VendorUnavailable;
    return new VendorError(type, vendor, `identity platform: ${error.errorCode}`);
  }
  if (error instanceof AuthError)
    return new VendorError(VendorFailureType.VendorUnavailable, vendor, `identity platform: ${error.errorCode}`);
  return error;
}

function selected(ctx: ConnectorContext, control: string): string[] {
  return ctx.controls[control] ?? [];
}

/** Teams channels are selected as `{teamId}/{channelId}`. */
function selectedChannels(ctx: ConnectorContext): { teamId: string; channelId: string }[] {
  return selected(ctx, 'channels').flatMap((entry) => {
    const [teamId, channelId] = entry.split('/');
    return teamId && channelId ? [{ teamId, channelId }] : [];
  });
}

function versionOf(item: Record<string, unknown>): string | undefined {
  const version = item.eTag ?? item['@odata.etag'] ?? item.changeKey ?? item.lastModifiedDateTime;
  return typeof version === 'string' ? version : undefined;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((entry): entry is string => typeof entry === 'string' && entry.length > 0)
    : [];
}
