/**
 * Procore connector (`@procore/js-sdk`). Credential model: `accessToken` (5,400 s), the single-use
 * `refreshToken` (every refresh returns a new pair and burns the old refresh token: the generic
 * activities serialise refreshes per integration and store the new pair before the old is
 * dropped), `metadata.companyId` the one company of the grant and `metadata.redirectUri` (Procore's
 * refresh grant repeats it).
 * T18: a token reaches every project its user can see, so `controls.projects` (the admin's
 * selection) is mandatory and is the only thing ever requested, hooked or written.
 * T19: data out is one action, an RFI's status, exercising the optional "Write status updates"
 * permission: refused on the audited path unless the admin granted it.
 */
import {
  authorize as sdkAuthorize,
  refresh as sdkRefresh,
  revoke as sdkRevoke,
  token as sdkToken,
} from '@procore/js-sdk';
import { scopesOutside } from '../../../lib/scopes';
import { VendorError, VendorFailureType } from '../errors';
import { createLocalVendorBudgets, createVendorCall, type OAuthAppConnectorOptions } from '../shared';
import { requireString } from '../shared/actionInput';
import type { Connector, ConnectorContext, Subscription, TokenSet } from '../types';
import { createProcoreApi, createRateGate, type ProcoreApi } from './client';
import {
  PROCORE_READ,
  PROCORE_STATUS_UPDATES,
  PROCORE_SYNC_RESOURCES,
  procoreDescriptor,
  type ProcoreResource,
} from './descriptor';
import { mapProcoreError, tokenEndpointError } from './errors';
import { assertProjectSelected, isProcoreId, selectedProjects } from './projects';
import { fetchResourcePage } from './sync';
import { TRIGGER_EVENTS, TRIGGER_RESOURCES, procoreDestinationHeaders } from './webhooks';

/** `now` is the clock of the `updated_at` windows and rate windows (and of the local budgets). */
export interface ProcoreConnectorOptions extends OAuthAppConnectorOptions {
  /** Authorization server (https://login.procore.com). */
  authBaseUrl: string;
  /** REST API host (https://api.procore.com). */
  apiBaseUrl: string;
}

const VENDOR = 'procore';
const ALL_SCOPES = [...procoreDescriptor.scopes.required, ...procoreDescriptor.scopes.optional];
/** RFI statuses an update may set (Procore's RFI workflow: draft → open → closed). */
const RFI_STATUSES = ['open', 'closed'];

interface TokenAnswer {
  access_token?: string;
  refresh_token?: string;
  expires_in?: number;
  error?: string;
}

type Json = Record<string, unknown>;

/** Our subscription ids are `<project id>/<hook id>`: a hook belongs to one project. */
function hookOf(subscription: Subscription): [projectId: string, hookId: string] {
  const [projectId, hookId] = subscription.externalId.split('/');
  return [projectId ?? '', hookId ?? ''];
}

export function createProcoreConnector(options: ProcoreConnectorOptions): Connector {
  const now = options.now ?? Date.now;
  const gate = createRateGate(now);
  const call = createVendorCall({
    family: VENDOR,
    appId: options.clientId,
    rateLimit: procoreDescriptor.rateLimit,
    budgets: options.budgets ?? createLocalVendorBudgets({ now }),
    mapError: (error) => mapProcoreError(error, now()),
  });
  const authHost = { apiHostname: options.authBaseUrl };

  function api(ctx: Pick<ConnectorContext, 'integrationId' | 'credential'>): ProcoreApi {
    const companyId = ctx.credential.metadata?.companyId;
    if (!companyId)
      throw new VendorError(VendorFailureType.ReauthorizationRequired, VENDOR, 'credential has no company id');
    return createProcoreApi({
      apiBaseUrl: options.apiBaseUrl,
      accessToken: ctx.credential.accessToken,
      companyId,
      gate,
      gateKey: ctx.integrationId,
      now,
    });
  }

  /** The SDK's token calls answer the JSON whatever the status: an `error` becomes a typed failure here. */
  function tokensOf(
    answer: TokenAnswer,
    grantedScopes: readonly string[],
    metadata?: Record<string, string>,
  ): TokenSet {
    const failure = tokenEndpointError(answer);
    if (failure) throw failure;
    return {
      accessToken: answer.access_token!,
      refreshToken: answer.refresh_token,
      expiresAt: answer.expires_in ? now() + answer.expires_in * 1000 : undefined,
      grantedScopes: [...grantedScopes],
      ...(metadata ? { metadata } : {}),
    };
  }

  function syncResource(resource: string): ProcoreResource {
    if (!(PROCORE_SYNC_RESOURCES as readonly string[]).includes(resource))
      throw new VendorError(
        VendorFailureType.OutsideCustomerControls,
        VENDOR,
        `resource ${resource} is not in the matrix's data in`,
      );
    return resource as ProcoreResource;
  }

  /** Our hooks on a project: those whose destination is one of this workspace's endpoints. */
  async function ourHooks(procore: ProcoreApi, ctx: ConnectorContext, projectId: string): Promise<string[]> {
    const { body } = await procore.get<Json[]>('/webhooks/hooks', {}, { project_id: projectId });
    const mine = `/webhooks/procore/${ctx.workspaceId}/`;
    return (Array.isArray(body) ? body : [])
      .filter((hook) => typeof hook.destination_url === 'string' && hook.destination_url.includes(mine))
      .map((hook) => String(hook.id));
  }

  async function deleteHook(procore: ProcoreApi, projectId: string, hookId: string): Promise<void> {
    try {
      await procore.delete('/webhooks/hooks/{hook_id}', { hook_id: hookId }, { project_id: projectId });
    } catch (error) {
      // Already gone: the disconnect's goal holds.
      if (!(error instanceof VendorError && error.details.status === 404)) throw error;
    }
  }

  return {
    vendors: ['procore'],

    // Procore has no OAuth scopes and no PKCE: the SDK's authorize URL (code grant, exact redirect
    // URI) plus our single-use state. The permission labels are checked against the row (T1).
    authorizeUrl(_vendor, request) {
      const beyond = scopesOutside(request.scopes, ALL_SCOPES).map(({ scope }) => scope);
      if (beyond.length > 0)
        throw new VendorError(
          VendorFailureType.OutsideCustomerControls,
          VENDOR,
          `permissions beyond the matrix row requested (${beyond.join(', ')})`,
        );
      const url = new URL(sdkAuthorize({ clientId: options.clientId, uri: request.redirectUri }, authHost));
      url.searchParams.set('state', request.state);
      return url.toString();
    },

    async exchangeCode(_vendor, input) {
      const audited = { audit: input.audit };
      // Procore's token answer carries no scope: the grant is what was consented (RFC 6749 §5.1).
      const requested = input.requestedScopes ?? procoreDescriptor.scopes.required;
      const tokens = await call(audited, { action: 'oauth.exchange-code', scope: PROCORE_READ }, async () =>
        tokensOf(
          (await sdkToken(
            { id: options.clientId, secret: options.clientSecret, code: input.code, uri: input.redirectUri },
            authHost,
          )) as TokenAnswer,
          requested,
        ),
      );
      const companies = await call(audited, { action: 'companies.list', scope: PROCORE_READ }, async () => {
        const procore = createProcoreApi({
          apiBaseUrl: options.apiBaseUrl,
          accessToken: tokens.accessToken,
          companyId: '',
          gate,
          gateKey: 'connect',
          now,
        });
        const { body } = await procore.get<Json[]>('/companies', {}, { per_page: 100 });
        return (Array.isArray(body) ? body : []).filter((company) => company.is_active !== false);
      });
      // One consent covers one company; with several the admin must pick (not guessed).
      if (companies.length !== 1 || !isProcoreId(String(companies[0]!.id)))
        throw new VendorError(
          VendorFailureType.VendorRejected,
          VENDOR,
          `expected exactly one Procore company for this grant, found ${companies.length}`,
        );
      return { ...tokens, metadata: { companyId: String(companies[0]!.id), redirectUri: input.redirectUri } };
    },

    // Single-use refresh tokens: this burns `refreshToken`. The caller holds the integration's
    // refresh lock and stores the new pair before dropping the old one.
    async refresh(ctx) {
      const refreshToken = ctx.credential.refreshToken;
      return call(ctx, { action: 'oauth.refresh', scope: PROCORE_READ }, async () => {
        if (!refreshToken)
          throw new VendorError(VendorFailureType.ReauthorizationRequired, VENDOR, 'credential has no refresh token');
        const answer = (await sdkRefresh(
          {
            id: options.clientId,
            secret: options.clientSecret,
            uri: ctx.credential.metadata?.redirectUri ?? '',
            refresh: refreshToken,
          },
          authHost,
        )) as TokenAnswer;
        return tokensOf(answer, ctx.credential.grantedScopes, ctx.credential.metadata);
      });
    },

    async testConnection(ctx) {
      await call(ctx, { action: 'projects.get', scope: PROCORE_READ }, () =>
        api(ctx).get(
          '/projects/{project_id}',
          { project_id: selectedProjects(ctx.controls)[0]! },
          {
            company_id: ctx.credential.metadata?.companyId ?? '',
          },
        ),
      );
    },

    // `/oauth/revoke` revokes the access and the refresh token. A revoked token can no longer
    // delete hooks, so our hooks on the selected projects are deleted first, with the live token.
    async revoke(ctx) {
      await call(ctx, { action: 'webhooks.delete', scope: PROCORE_READ }, async () => {
        const procore = api(ctx);
        for (const projectId of selectedProjects(ctx.controls))
          for (const hookId of await ourHooks(procore, ctx, projectId)) await deleteHook(procore, projectId, hookId);
      });
      await call(ctx, { action: 'oauth.revoke', scope: PROCORE_READ }, async () => {
        const answer = (await sdkRevoke(
          { token: ctx.credential.accessToken, clientId: options.clientId, clientSecret: options.clientSecret },
          authHost,
        )) as { error?: string } | undefined;
        if (answer?.error) throw new VendorError(VendorFailureType.VendorRejected, VENDOR, 'revocation refused');
      });
      return { revoked: true, note: procoreDescriptor.revocation.note };
    },

    // No HMAC at Procore: each hook carries our endpoint's token in its destination headers
    // (webhooks.ts), one hook per selected project with create/update/delete triggers per resource.
    async registerWebhooks(ctx, input) {
      return call(ctx, { action: 'webhooks.register', scope: PROCORE_READ }, async () => {
        const procore = api(ctx);
        const subscriptions: Subscription[] = [];
        for (const projectId of selectedProjects(ctx.controls)) {
          const { body: hook } = await procore.post<Json>(
            '/webhooks/hooks',
            {},
            {
              project_id: Number(projectId),
              hook: {
                api_version: 'v2',
                destination_url: input.callbackUrl,
                destination_headers: procoreDestinationHeaders(input.clientState),
              },
            },
          );
          for (const resourceName of Object.values(TRIGGER_RESOURCES))
            for (const eventType of TRIGGER_EVENTS)
              await procore.post(
                '/webhooks/hooks/{hook_id}/triggers',
                { hook_id: String(hook.id) },
                {
                  project_id: Number(projectId),
                  trigger: { resource_name: resourceName, event_type: eventType },
                },
              );
          subscriptions.push({ externalId: `${projectId}/${String(hook.id)}`, resource: 'hooks' });
        }
        return subscriptions;
      });
    },

    // Procore hooks do not expire.
    renewSubscription: async (_ctx, subscription) => subscription,

    // T8: a hook's destination headers change in place (PATCH); the hook and its triggers stay, so
    // nothing is missed between an old and a new hook.
    async rotateWebhookSecret(ctx, input) {
      return call(ctx, { action: 'webhooks.update', scope: PROCORE_READ }, async () => {
        const procore = api(ctx);
        for (const subscription of input.subscriptions) {
          const [projectId, hookId] = subscription.externalId.split('/') as [string, string];
          await procore.patch(
            '/webhooks/hooks/{hook_id}',
            { hook_id: hookId },
            {
              project_id: Number(projectId),
              hook: { destination_headers: procoreDestinationHeaders(input.newSecret) },
            },
          );
        }
        return [...input.subscriptions];
      });
    },

    async deleteSubscription(ctx, subscription) {
      const [projectId, hookId] = hookOf(subscription);
      await call(ctx, { action: 'webhooks.delete', scope: PROCORE_READ }, async () => {
        try {
          await deleteHook(api(ctx), projectId, hookId);
        } catch (error) {
          // Disconnect revokes first, and revoke deletes our hooks while the token still works:
          // a revoked grant here means the hook is already gone.
          if (!(error instanceof VendorError && error.type === VendorFailureType.ReauthorizationRequired)) throw error;
        }
      });
    },

    // A hook serves one project: once the admin deselects it, the hook goes (T18).
    subscriptionOutsideControls: (subscription, controls) =>
      !(controls.projects ?? []).includes(hookOf(subscription)[0]),

    async fetchPage(ctx, input) {
      return call(ctx, { action: `${input.resource}.list`, scope: PROCORE_READ }, () =>
        fetchResourcePage({
          api: api(ctx),
          resource: syncResource(input.resource),
          projects: selectedProjects(ctx.controls),
          companyId: ctx.credential.metadata?.companyId ?? '',
          cursorText: input.cursor,
          now: now(),
        }),
      );
    },

    async perform(ctx, action, input) {
      return call(ctx, { action, scope: PROCORE_STATUS_UPDATES }, async () => {
        if (action !== 'status-update')
          throw new VendorError(
            VendorFailureType.OutsideCustomerControls,
            VENDOR,
            `action ${action} is not in the matrix's data out`,
          );
        const projectId = requireString(VENDOR, input, 'projectId');
        const rfiId = requireString(VENDOR, input, 'rfiId');
        const status = requireString(VENDOR, input, 'status');
        if (!isProcoreId(rfiId) || !RFI_STATUSES.includes(status))
          throw new VendorError(VendorFailureType.VendorRejected, VENDOR, 'invalid input: rfiId or status');
        assertProjectSelected(ctx.controls, projectId);
        // The project is in the path: Procore answers 404 for an RFI of any other project.
        const { body } = await api(ctx).patch<Json>(
          '/projects/{project_id}/rfis/{rfi_id}',
          { project_id: projectId, rfi_id: rfiId },
          { rfi: { status } },
        );
        return { externalId: String(body.id), status: String(body.status) };
      });
    },
  } satisfies Connector;
}
