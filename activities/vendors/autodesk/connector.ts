/**
 * APS connector for the Autodesk Construction Cloud, Autodesk Docs and Autodesk Tandem rows
 * (`@aps_sdk/*` and one REST client, `client.ts`; Tandem has no SDK: `tandem.ts`). Credential model:
 * `accessToken` (1 h), the single-use `refreshToken` (every refresh returns a new pair and burns the
 * old one: the generic activities serialise refreshes per integration and store the new pair before
 * the old is dropped) and, for ACC and Docs, `metadata.hubId`, the hub of the admin's selection.
 * T18: only the selected projects or facilities are requested, hooked or written (`projects.ts`).
 * T19: ACC and Tandem write only the actions the admin enabled (`writes`); Docs' scopes hold no
 * write permission at all, so its data out is refused before any call.
 */
import type { Scopes } from '@aps_sdk/authentication';
import { Status } from '@aps_sdk/construction-issues';
import { scopesOutside } from '../../../lib/scopes';
import { VendorError, VendorFailureType, type RefusalFailureType } from '../errors';
import { createLocalVendorBudgets, createVendorCall, type OAuthAppConnectorOptions } from '../shared';
import { requireString } from '../shared/actionInput';
import { RestError } from '../shared/restClient';
import type { Connector, ConnectorContext, Subscription, TokenSet, VendorDescriptor, VendorId } from '../types';
import {
  authenticationClient,
  createApsRest,
  dataManagementClient,
  issuesClient,
  productProjectId,
  type ApsRest,
} from './client';
import {
  ACC_ACTIONS,
  APS_READ,
  APS_WRITE,
  TANDEM_ACTIONS,
  autodeskDescriptors,
  type AutodeskResource,
} from './descriptor';
import { VENDOR, mapApsError, mapTokenError } from './errors';
import {
  assertFacilitySelected,
  assertProjectSelected,
  assertWriteEnabled,
  isApsId,
  selectedFacilities,
  selectedHub,
  selectedProjects,
  selectedScopes,
} from './projects';
import { isServiceUser, readFacility, writeParameter } from './tandem';
import { fetchResourcePage } from './sync';
import { HOOK_EVENTS, autodeskHookToken } from './webhooks';

/** `now` is the clock of token expiry and `updatedAt` windows (and of the local budgets). */
export interface AutodeskConnectorOptions extends OAuthAppConnectorOptions {
  /** APS base address (https://developer.api.autodesk.com). */
  apiBaseUrl: string;
}

type Json = Record<string, unknown>;
const HOOKS_PATH = (event: string) => `/webhooks/v1/systems/data/events/${event}/hooks`;

function descriptorOf(vendor: VendorId): VendorDescriptor {
  const descriptor = autodeskDescriptors.find((row) => row.id === vendor);
  if (!descriptor) throw new VendorError(VendorFailureType.VendorRejected, VENDOR, `not an Autodesk row: ${vendor}`);
  return descriptor;
}

function refused(type: RefusalFailureType, reason: string): VendorError {
  return new VendorError(type, VENDOR, reason);
}

export function createAutodeskConnector(options: AutodeskConnectorOptions): Connector {
  const now = options.now ?? Date.now;
  const base = options.apiBaseUrl;
  const call = createVendorCall({
    family: VENDOR,
    appId: options.clientId,
    rateLimit: autodeskDescriptors[0]!.rateLimit,
    budgets: options.budgets ?? createLocalVendorBudgets({ now }),
    mapError: (error) => mapApsError(error, now()),
  });
  const secret = { clientSecret: options.clientSecret };

  function hubOf(ctx: Pick<ConnectorContext, 'credential'>): string {
    const hubId = ctx.credential.metadata?.hubId;
    if (!hubId) throw refused(VendorFailureType.ReauthorizationRequired, 'credential has no hub');
    return hubId;
  }

  function tokensOf(
    answer: { access_token: string; refresh_token?: string; expires_in?: number },
    grantedScopes: readonly string[],
    metadata?: Record<string, string>,
  ): TokenSet {
    return {
      accessToken: answer.access_token,
      refreshToken: answer.refresh_token,
      expiresAt: answer.expires_in ? now() + answer.expires_in * 1000 : undefined,
      grantedScopes: [...grantedScopes],
      ...(metadata ? { metadata } : {}),
    };
  }

  /** The token endpoint's refusals mapped here (invalid_grant → re-consent), everything else by the call. */
  async function tokenCall<T>(run: () => Promise<T>): Promise<T> {
    try {
      return await run();
    } catch (error) {
      throw mapTokenError(error, now());
    }
  }

  /** The hub of the grant: the admin's pick, which the user must belong to, or the user's only hub. */
  async function resolveHub(accessToken: string, controls: Readonly<Record<string, readonly string[]>>) {
    const hubs = (await dataManagementClient(base).getHubs({ accessToken })) as { data?: Array<{ id?: string }> };
    const ids = (hubs.data ?? []).map((hub) => String(hub.id).toLowerCase()).filter(isApsId);
    const picked = selectedHub(controls);
    if (picked) {
      if (!ids.includes(picked))
        throw refused(VendorFailureType.OutsideCustomerControls, 'the picked hub is not reachable by this grant');
      return picked;
    }
    if (ids.length !== 1)
      throw refused(VendorFailureType.VendorRejected, `expected one hub for this grant, found ${ids.length}: pick one`);
    return ids[0]!;
  }

  /** Every selected project must be a project of the hub (one filtered call: nothing else is listed). */
  async function assertProjectsInHub(accessToken: string, hubId: string, projects: string[]): Promise<void> {
    const found = (await dataManagementClient(base).getHubProjects(hubId, {
      accessToken,
      // APS filters take several values comma-separated (the SDK would repeat the key).
      filterId: [projects.join(',')],
    })) as { data?: Array<{ id?: string }> };
    const ids = new Set((found.data ?? []).map((project) => String(project.id).toLowerCase()));
    if (!projects.every((id) => ids.has(id)))
      throw refused(VendorFailureType.OutsideCustomerControls, 'a selected project is not in the hub');
  }

  /** Every selected facility must be one the user can open (a 403/404 is a selection outside the grant). */
  async function assertFacilitiesReachable(accessToken: string, facilities: string[]): Promise<void> {
    const rest = createApsRest(base, accessToken);
    for (const facilityId of facilities)
      try {
        await readFacility(rest, facilityId);
      } catch (error) {
        if (error instanceof RestError && (error.status === 403 || error.status === 404))
          throw refused(
            VendorFailureType.OutsideCustomerControls,
            'a selected facility is not reachable by this grant',
          );
        throw error;
      }
  }

  /** Tandem: our app must be a service user of every selected facility (what app-only access to it needs). */
  async function assertServiceAccess(ctx: ConnectorContext): Promise<void> {
    const rest = createApsRest(base, ctx.credential.accessToken);
    const facilities = selectedFacilities(ctx.controls);
    let missing = 0;
    for (const facilityId of facilities) if (!(await isServiceUser(rest, facilityId, options.clientId))) missing += 1;
    if (missing > 0)
      throw refused(
        VendorFailureType.MissingScope,
        `our app is not a service user of ${missing} of ${facilities.length} selected facilities: add it in Tandem (Facility settings, Users, Add service) with the app's client id`,
      );
  }

  /** Our hooks: those whose callback is one of this workspace's endpoints, over every page (`pageState`). */
  async function ourHooks(rest: ApsRest, belongs: (callbackUrl: string) => boolean): Promise<string[]> {
    const found: string[] = [];
    let path: string | undefined = '/webhooks/v1/hooks';
    while (path) {
      const page: { data?: Json[]; links?: { next?: string | null } } = await rest.get(path);
      for (const hook of page.data ?? [])
        if (typeof hook.callbackUrl === 'string' && belongs(hook.callbackUrl))
          found.push(`${String(hook.event)}/${String(hook.hookId)}`);
      path = page.links?.next
        ? new URL(page.links.next, base).pathname + new URL(page.links.next, base).search
        : undefined;
    }
    return found;
  }

  async function deleteHook(rest: ApsRest, externalId: string): Promise<void> {
    const [event, hookId] = externalId.split('/') as [string, string];
    try {
      await rest.request({ method: 'DELETE', path: `${HOOKS_PATH(event)}/${encodeURIComponent(hookId)}` });
    } catch (error) {
      // Already gone: the disconnect's goal holds.
      if ((error as { status?: number }).status !== 404) throw error;
    }
  }

  async function createIssue(ctx: ConnectorContext, projectId: string, input: Record<string, unknown>) {
    const issue = (await issuesClient(base).createIssue(
      productProjectId(projectId),
      {
        title: requireString(VENDOR, input, 'title'),
        issueSubtypeId: requireString(VENDOR, input, 'issueSubtypeId'),
        status: Status.Open,
      },
      { accessToken: ctx.credential.accessToken },
    )) as Json;
    return { externalId: String(issue.id), displayId: issue.displayId ?? null };
  }

  // No SDK module covers RFIs: the shared REST client.
  async function createRfi(ctx: ConnectorContext, projectId: string, input: Record<string, unknown>) {
    const rfi = await createApsRest(base, ctx.credential.accessToken).request({
      method: 'POST',
      path: `/construction/rfis/v3/projects/${encodeURIComponent(productProjectId(projectId))}/rfis`,
      body: { title: requireString(VENDOR, input, 'title'), question: requireString(VENDOR, input, 'question') },
    });
    return { externalId: String(rfi.id), status: rfi.status ?? null };
  }

  /** Tandem: a twin sync update writes the given parameter; an asset status writes the status parameter. */
  async function writeAsset(ctx: ConnectorContext, action: string, input: Record<string, unknown>) {
    const facilityId = requireString(VENDOR, input, 'facilityId');
    assertFacilitySelected(ctx.controls, facilityId);
    return writeParameter(createApsRest(base, ctx.credential.accessToken), {
      facilityId,
      modelId: requireString(VENDOR, input, 'modelId'),
      elementKey: requireString(VENDOR, input, 'elementKey'),
      parameter: requireString(VENDOR, input, 'parameter'),
      value: requireString(VENDOR, input, action === 'asset-status' ? 'status' : 'value'),
      desc: `TrackProject ${action}`,
    });
  }

  return {
    vendors: ['autodesk-acc', 'autodesk-docs', 'autodesk-tandem'],

    // APS OAuth v2, three-legged with PKCE (S256): the SDK's authorize URL with our state.
    authorizeUrl(vendor, request) {
      const descriptor = descriptorOf(vendor);
      const beyond = scopesOutside(request.scopes, [...descriptor.scopes.required, ...descriptor.scopes.optional]);
      if (beyond.length > 0)
        throw refused(
          VendorFailureType.OutsideCustomerControls,
          `scopes beyond the matrix row requested (${beyond.map(({ scope }) => scope).join(', ')})`,
        );
      if (!request.codeChallenge) throw refused(VendorFailureType.VendorRejected, 'PKCE challenge required');
      return authenticationClient(base).authorize(
        options.clientId,
        'code',
        request.redirectUri,
        request.scopes as Scopes[],
        {
          state: request.state,
          codeChallenge: request.codeChallenge,
          codeChallengeMethod: 'S256',
        },
      );
    },

    async exchangeCode(vendor, input) {
      const audited = { audit: input.audit };
      // APS's token answer names no scope: the grant is what was consented (RFC 6749 §5.1).
      const requested = input.requestedScopes ?? descriptorOf(vendor).scopes.required;
      const controls = input.controls ?? {};
      const tokens = await call(audited, { action: 'oauth.exchange-code', scope: APS_READ }, () =>
        tokenCall(async () =>
          tokensOf(
            await authenticationClient(base).getThreeLeggedToken(options.clientId, input.code, input.redirectUri, {
              ...secret,
              ...(input.codeVerifier ? { code_verifier: input.codeVerifier } : {}),
            }),
            requested,
          ),
        ),
      );
      if (vendor === 'autodesk-tandem') {
        await call(audited, { action: 'facilities.get', scope: APS_READ }, () =>
          assertFacilitiesReachable(tokens.accessToken, selectedFacilities(controls)),
        );
        return tokens;
      }
      const hubId = await call(audited, { action: 'hubs.list', scope: APS_READ }, async () => {
        const hub = await resolveHub(tokens.accessToken, controls);
        await assertProjectsInHub(tokens.accessToken, hub, selectedProjects(controls));
        return hub;
      });
      return { ...tokens, metadata: { hubId } };
    },

    // Single-use refresh tokens: this burns `refreshToken`. The caller holds the integration's
    // refresh lock and stores the new pair before dropping the old one. The narrowed scopes (T17).
    async refresh(ctx) {
      const refreshToken = ctx.credential.refreshToken;
      return call(ctx, { action: 'oauth.refresh', scope: APS_READ }, async () => {
        if (!refreshToken) throw refused(VendorFailureType.ReauthorizationRequired, 'credential has no refresh token');
        const answer = await tokenCall(() =>
          authenticationClient(base).refreshToken(refreshToken, options.clientId, {
            ...secret,
            scopes: [...ctx.scopes] as Scopes[],
          }),
        );
        return tokensOf(answer, ctx.scopes, ctx.credential.metadata);
      });
    },

    async testConnection(ctx) {
      if (ctx.vendor === 'autodesk-tandem')
        return call(ctx, { action: 'facilities.users', scope: APS_READ }, () => assertServiceAccess(ctx));
      await call(ctx, { action: 'projects.get', scope: APS_READ }, () =>
        dataManagementClient(base).getProject(hubOf(ctx), selectedProjects(ctx.controls)[0]!, {
          accessToken: ctx.credential.accessToken,
        }),
      );
    },

    // A revoked token can no longer delete hooks: ours go first, with the live token; then both
    // tokens are revoked at /authentication/v2/revoke.
    async revoke(ctx) {
      if (ctx.vendor === 'autodesk-acc')
        await call(ctx, { action: 'webhooks.delete', scope: APS_WRITE }, async () => {
          const rest = createApsRest(base, ctx.credential.accessToken);
          try {
            const mine = `/webhooks/${ctx.vendor}/${ctx.workspaceId}/`;
            for (const hook of await ourHooks(rest, (url) => url.includes(mine))) await deleteHook(rest, hook);
          } catch (error) {
            // A grant already revoked at Autodesk has no hooks left to delete for us.
            if ((error as { status?: number }).status !== 401) throw error;
          }
        });
      await call(ctx, { action: 'oauth.revoke', scope: APS_READ }, async () => {
        const auth = authenticationClient(base);
        if (ctx.credential.refreshToken)
          await auth.revoke(ctx.credential.refreshToken, options.clientId, 'refresh_token', secret);
        await authenticationClient(base).revoke(ctx.credential.accessToken, options.clientId, 'access_token', secret);
      });
      return { revoked: true, note: descriptorOf(ctx.vendor).revocation.note };
    },

    // One hook per event on each selected project's top folders (APS folder scopes are recursive),
    // each with its own secret token derived from the endpoint's secret.
    async registerWebhooks(ctx, input) {
      return call(ctx, { action: 'webhooks.register', scope: APS_WRITE }, async () => {
        const rest = createApsRest(base, ctx.credential.accessToken);
        // APS refuses a second hook for the same event, folder and callback (409): hooks an earlier,
        // interrupted attempt left for this endpoint go first, so a retried registration succeeds.
        for (const hook of await ourHooks(rest, (url) => url === input.callbackUrl)) await deleteHook(rest, hook);
        const subscriptions: Subscription[] = [];
        for (const projectId of selectedProjects(ctx.controls)) {
          const top = (await dataManagementClient(base).getProjectTopFolders(hubOf(ctx), projectId, {
            accessToken: ctx.credential.accessToken,
          })) as { data?: Array<{ id?: string }> };
          for (const folder of top.data ?? [])
            for (const event of HOOK_EVENTS) {
              const location = await rest.create(HOOKS_PATH(event), {
                callbackUrl: input.callbackUrl,
                scope: { folder: folder.id },
                hookAttribute: { projectId },
                autoReactivateHook: true,
              });
              const hookId = location.split('/').at(-1)!;
              await rest.request({
                method: 'PATCH',
                path: `${HOOKS_PATH(event)}/${hookId}`,
                body: { token: autodeskHookToken(input.clientState) },
              });
              subscriptions.push({ externalId: `${event}/${decodeURIComponent(hookId)}`, resource: 'hooks' });
            }
        }
        return subscriptions;
      });
    },

    // APS hooks do not expire (none is created with `hookExpiry`).
    renewSubscription: async (_ctx, subscription) => subscription,

    async deleteSubscription(ctx, subscription) {
      await call(ctx, { action: 'webhooks.delete', scope: APS_WRITE }, async () => {
        try {
          await deleteHook(createApsRest(base, ctx.credential.accessToken), subscription.externalId);
        } catch (error) {
          // Disconnect revokes first, and revoke deletes our hooks while the token still works.
          if ((error as { status?: number }).status !== 401) throw error;
        }
      });
    },

    async fetchPage(ctx, input) {
      return call(ctx, { action: `${input.resource}.list`, scope: APS_READ }, () => {
        if (!descriptorOf(ctx.vendor).syncResources.includes(input.resource))
          throw refused(
            VendorFailureType.OutsideCustomerControls,
            `resource ${input.resource} is not in the row's data in`,
          );
        return fetchResourcePage({
          dm: dataManagementClient(base),
          issues: issuesClient(base),
          rest: createApsRest(base, ctx.credential.accessToken),
          accessToken: ctx.credential.accessToken,
          hubId: ctx.vendor === 'autodesk-tandem' ? '' : hubOf(ctx),
          resource: input.resource as AutodeskResource,
          projects: selectedScopes(ctx.vendor, ctx.controls),
          cursorText: input.cursor,
          now: now(),
        });
      });
    },

    async perform(ctx, action, input) {
      return call(ctx, { action, scope: APS_WRITE }, async () => {
        if (ctx.vendor === 'autodesk-docs')
          throw refused(
            VendorFailureType.MissingScope,
            'the row’s scopes (data:read, account:read) allow no write at Autodesk',
          );
        const actions: readonly string[] = ctx.vendor === 'autodesk-tandem' ? TANDEM_ACTIONS : ACC_ACTIONS;
        if (!actions.includes(action))
          throw refused(VendorFailureType.OutsideCustomerControls, `action ${action} is not in the matrix's data out`);
        assertWriteEnabled(ctx.controls, action);
        if (ctx.vendor === 'autodesk-tandem') return writeAsset(ctx, action, input);
        const projectId = requireString(VENDOR, input, 'projectId');
        assertProjectSelected(ctx.controls, projectId);
        return action === 'issues' ? createIssue(ctx, projectId, input) : createRfi(ctx, projectId, input);
      });
    },
  } satisfies Connector;
}
