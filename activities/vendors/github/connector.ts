/**
 * GitHub App connector. Credential model: `credential.accessToken` is the installation token (1 h,
 * narrowed to the descriptor's permissions and the controlled repositories), `refreshToken` the
 * connecting user's rotating refresh token, `metadata.installationId` the installation.
 * T18: `controls.repos` (full names) narrows the installation; writes outside it are refused before
 * any call, and the installation token itself cannot reach other repositories (GitHub answers 404).
 *
 * The installation comes only from the app's setup redirect, for the signed state of this connect
 * run, and is adopted only when the authorizing user administers every repository the integration
 * will read (GitHub lets any member see an organisation's installation; only its admins may bind it).
 */
import crypto from 'node:crypto';
import type { Octokit } from '@octokit/rest';
import { signSetupState, verifySetupState } from '../../../lib/oauth/setupState';
import { VendorError, VendorFailureType } from '../errors';
import {
  EMPTY_WATERMARK,
  OAuth2Client,
  advanceWatermark,
  APP_WEBHOOK_RESOURCE,
  assertGrantWithinRequested,
  createVendorCall,
  isFresh,
  queryStartMs,
  type UpdatedWatermark,
  type VendorBudgets,
} from '../shared';
import type {
  Connector,
  ConnectorContext,
  InstallationChoice,
  SourceRecord,
  Subscription,
  SyncPage,
  TokenSet,
  VendorCallAuditor,
} from '../types';
import { createAppOctokit, createTokenOctokit, type GithubAppCredentials } from './client';
import { GITHUB_SCOPES, githubDescriptor, githubRequestedPermissions } from './descriptor';
import { mapGithubError } from './errors';
import { githubRoutingKey } from './webhooks';

export interface GithubConnectorOptions extends GithubAppCredentials {
  /** REST API base (https://api.github.com). */
  apiBaseUrl: string;
  /** Web base for user authorization (https://github.com). */
  webBaseUrl: string;
  clientId: string;
  clientSecret: string;
  /** The app's URL name (`<webBaseUrl>/apps/<slug>/installations/new`). */
  appSlug: string;
  /** The worker's vendor budgets (shared by every worker); absent: this process's own. */
  budgets?: VendorBudgets;
}

const VENDOR = 'github';
/** vendor_subscriptions.resource of app-level webhook routes (see db/migrations/0003_app_webhook_routing.ts). */
export { APP_WEBHOOK_RESOURCE };
/** GitHub's maximum page size. */
const PER_PAGE = 100;
const SCOPE_READ = 'repo:read';
const SCOPE_WRITE = 'issues:write';

type Json = Record<string, unknown>;

/** Per-repository walk state of the `issues` / `releases` resources. */
interface RepoWalkCursor {
  repos: string[];
  index: number;
  page: number;
  /** Per repository, committed when its walk ends: issues watermark and first-page ETag. */
  done: Record<string, { watermark?: UpdatedWatermark; etag?: string }>;
  /** Within the current repository: issues seen and the first-page ETag. */
  pendingSeen: Array<{ id: string; updatedMs: number }>;
  pendingEtag?: string;
}

/** GitHub's `since` is inclusive at second precision: no extra overlap needed, only same-second dedupe. */
const SINCE_OVERLAP_MS = 0;

export function createGithubConnector(options: GithubConnectorOptions): Connector {
  const call = createVendorCall({
    family: VENDOR,
    appId: options.appId,
    rateLimit: githubDescriptor.rateLimit,
    budgets: options.budgets,
    mapError: mapGithubError,
  });
  const oauth = new OAuth2Client({
    vendor: VENDOR,
    authorizeUrl: `${options.webBaseUrl}/login/oauth/authorize`,
    tokenUrl: `${options.webBaseUrl}/login/oauth/access_token`,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    tokenRequestEncoding: 'form',
    // A GitHub App's permissions are fixed by the app and narrowed per token; `scope` is ignored.
    sendScope: false,
  });
  const appOctokit = createAppOctokit(options.apiBaseUrl, options);
  const tokenOctokit = (ctx: ConnectorContext): Octokit =>
    createTokenOctokit(options.apiBaseUrl, ctx.credential.accessToken);
  // Setup states are signed with a key only our app registration can derive.
  const setupKey = Buffer.from(
    crypto.hkdfSync('sha256', options.clientSecret, options.appId, 'trackproject github setup state', 32),
  );

  /** Mints an installation token narrowed to the scopes' permissions (and repositories, when controlled). */
  async function installationToken(
    installationId: number,
    repositories: string[] | undefined,
    scopes: readonly string[] = GITHUB_SCOPES,
  ): Promise<Pick<TokenSet, 'accessToken' | 'expiresAt'>> {
    const requestedPermissions = githubRequestedPermissions(scopes);
    const { data } = await appOctokit.rest.apps.createInstallationAccessToken({
      installation_id: installationId,
      permissions: requestedPermissions,
      ...(repositories ? { repositories: repositories.map((fullName) => fullName.split('/')[1]!) } : {}),
    });
    // T1: a token carrying more than we asked for is refused.
    const granted = Object.entries(data.permissions ?? {}).map(([name, level]) => `${name}:${String(level)}`);
    assertGrantWithinRequested(
      VENDOR,
      Object.entries(requestedPermissions).map(([name, level]) => `${name}:${level}`),
      granted,
    );
    return { accessToken: data.token, expiresAt: Date.parse(data.expires_at) };
  }

  /**
   * The user may bind the installation only if they can see it and administer every repository the
   * integration will read: the selected ones, or (no selection) every repository of the installation.
   */
  async function verifyInstallationChoice(
    audited: { audit: VendorCallAuditor },
    userToken: string,
    choice: InstallationChoice,
  ): Promise<{ installationId: number; account: string }> {
    const id = Number(choice.installationId);
    if (!Number.isSafeInteger(id) || id <= 0) throw refused('the installation id is not valid');
    const userOctokit = createTokenOctokit(options.apiBaseUrl, userToken);
    const visible = await call(audited, { action: 'installation.list-user-repos', scope: SCOPE_READ }, async () => {
      const repos: Array<{ fullName: string; admin: boolean }> = [];
      for (let page = 1; ; page += 1) {
        const response = await userOctokit.rest.apps
          .listInstallationReposForAuthenticatedUser({ installation_id: id, per_page: PER_PAGE, page })
          .catch((error: unknown) => {
            // GitHub hides an installation the user cannot see behind 404.
            if ((error as { status?: number }).status === 404)
              throw refused('the authorizing user has no access to this installation');
            throw error;
          });
        repos.push(
          ...response.data.repositories.map((item) => ({
            fullName: item.full_name,
            admin: item.permissions?.admin === true,
          })),
        );
        if (!hasNextLink(response.headers.link)) return { repos, total: response.data.total_count };
      }
    });
    const installation = await call(audited, { action: 'installation.get', scope: SCOPE_READ }, async () => {
      const { data } = await appOctokit.rest.apps.getInstallation({ installation_id: id });
      return data;
    });
    const account = installation.account && 'login' in installation.account ? installation.account.login : '';
    const administered = new Set(visible.repos.filter((item) => item.admin).map((item) => item.fullName));
    const selected = choice.controls.repos;
    if (selected) {
      const listed = new Set(visible.repos.map((item) => item.fullName));
      const outside = selected.filter((name) => !listed.has(name));
      if (outside.length > 0)
        throw new VendorError(
          VendorFailureType.OutsideCustomerControls,
          VENDOR,
          `selected repositories are outside the installation: ${outside.join(', ')}`,
        );
      if (selected.some((name) => !administered.has(name)))
        throw refused('the authorizing user does not administer every selected repository');
    } else {
      // The whole installation is read: the user must administer all of it, seen from the app's side too.
      const total = await call(audited, { action: 'installation.list-repos', scope: SCOPE_READ }, async () => {
        const token = await installationToken(id, undefined);
        const { data } = await createTokenOctokit(
          options.apiBaseUrl,
          token.accessToken,
        ).rest.apps.listReposAccessibleToInstallation({ per_page: 1 });
        return data.total_count;
      });
      if (administered.size !== visible.repos.length || visible.total !== total)
        throw refused('the authorizing user does not administer every repository of the installation');
    }
    return { installationId: id, account };
  }

  function installationId(ctx: ConnectorContext): number {
    const id = Number(ctx.credential.metadata?.installationId);
    if (!Number.isInteger(id))
      throw new VendorError(VendorFailureType.ReauthorizationRequired, VENDOR, 'credential has no installation id');
    return id;
  }

  function controlledRepos(ctx: ConnectorContext): string[] | undefined {
    return ctx.controls.repos;
  }

  /** T18: writes need an explicit repository inside the admin's selection. */
  function assertRepoAllowed(ctx: ConnectorContext, repository: string): { owner: string; repo: string } {
    const allowed = controlledRepos(ctx);
    if (!allowed || !allowed.includes(repository)) {
      throw new VendorError(
        VendorFailureType.OutsideCustomerControls,
        VENDOR,
        'repository is outside the installation’s controlled repositories',
      );
    }
    const [owner, repo] = repository.split('/') as [string, string];
    return { owner, repo };
  }

  async function listInstallationRepos(
    ctx: ConnectorContext,
    page: number,
  ): Promise<{ repos: Json[]; hasNext: boolean }> {
    const response = await tokenOctokit(ctx).rest.apps.listReposAccessibleToInstallation({ per_page: PER_PAGE, page });
    return { repos: response.data.repositories as unknown as Json[], hasNext: hasNextLink(response.headers.link) };
  }

  async function reposToWalk(ctx: ConnectorContext): Promise<string[]> {
    const controlled = controlledRepos(ctx);
    if (controlled) return [...controlled].sort();
    const names: string[] = [];
    for (let page = 1; ; page += 1) {
      const { repos, hasNext } = await listInstallationRepos(ctx, page);
      names.push(...repos.map((repo) => String(repo.full_name)));
      if (!hasNext) return names.sort();
    }
  }

  async function walkRepos(
    ctx: ConnectorContext,
    resource: 'issues' | 'releases',
    cursorText: string | null,
  ): Promise<SyncPage> {
    const cursor: RepoWalkCursor = cursorText
      ? (JSON.parse(cursorText) as RepoWalkCursor)
      : { repos: [], index: 0, page: 1, done: {}, pendingSeen: [] };
    if (cursor.index === 0 && cursor.page === 1) cursor.repos = await reposToWalk(ctx);
    const repository = cursor.repos[cursor.index];
    if (!repository)
      return {
        records: [],
        deletedExternalIds: [],
        nextCursor: JSON.stringify({ ...cursor, index: 0, page: 1 }),
        roundComplete: true,
      };
    const [owner, repo] = repository.split('/') as [string, string];
    const previous = cursor.done[repository] ?? {};
    const watermark = previous.watermark ?? EMPTY_WATERMARK;
    const startMs = queryStartMs(watermark, SINCE_OVERLAP_MS);
    const headers = cursor.page === 1 && previous.etag ? { 'if-none-match': previous.etag } : {};
    let response: { data: unknown; headers: { etag?: string; link?: string } } | undefined;
    try {
      response =
        resource === 'issues'
          ? await tokenOctokit(ctx).rest.issues.listForRepo({
              owner,
              repo,
              state: 'all',
              sort: 'updated',
              direction: 'asc',
              since: startMs === undefined ? undefined : new Date(startMs).toISOString(),
              per_page: PER_PAGE,
              page: cursor.page,
              headers,
            })
          : await tokenOctokit(ctx).rest.repos.listReleases({
              owner,
              repo,
              per_page: PER_PAGE,
              page: cursor.page,
              headers,
            });
    } catch (error) {
      // 304: unchanged since the stored ETag (and free of rate-limit cost).
      if ((error as { status?: number }).status !== 304) throw error;
    }
    // The issues endpoint also lists pull requests: not in the matrix's data in.
    const items = ((response?.data ?? []) as Json[]).filter(
      (item) => resource === 'releases' || item.pull_request === undefined,
    );
    const seen = items.map((item) => ({
      id: String(item.id),
      updatedMs: Date.parse(String(item.updated_at ?? item.published_at ?? item.created_at)),
    }));
    const records: SourceRecord[] = items
      .filter((_item, index) => resource === 'releases' || isFresh(watermark, seen[index]!.id, seen[index]!.updatedMs))
      .map((item) => ({
        resource,
        externalId: String(item.id),
        version: String(item.updated_at ?? item.published_at ?? item.created_at),
        payload: { ...item, repository_full_name: repository },
      }));
    if (response && cursor.page === 1) cursor.pendingEtag = response.headers.etag;
    if (resource === 'issues') cursor.pendingSeen.push(...seen);
    if (response && hasNextLink(response.headers.link)) {
      cursor.page += 1;
    } else {
      // Repository finished: watermark and ETag move forward only now, so a failed walk re-reads.
      // The ETag is kept only for single-page walks: an unchanged first page says nothing about later pages.
      cursor.done[repository] = response
        ? {
            watermark: advanceWatermark(watermark, cursor.pendingSeen, SINCE_OVERLAP_MS),
            etag: cursor.page === 1 ? cursor.pendingEtag : undefined,
          }
        : previous;
      cursor.pendingSeen = [];
      cursor.pendingEtag = undefined;
      cursor.index += 1;
      cursor.page = 1;
    }
    const roundComplete = cursor.index >= cursor.repos.length;
    if (roundComplete) cursor.index = 0;
    return { records, deletedExternalIds: [], nextCursor: JSON.stringify(cursor), roundComplete };
  }

  return {
    vendors: ['github'],

    authorizeUrl: (_vendor, request) => oauth.authorizeUrl(request),

    installation: {
      setupUrl: (_vendor, binding) =>
        `${options.webBaseUrl}/apps/${encodeURIComponent(options.appSlug)}/installations/new?state=${signSetupState(setupKey, binding)}`,
      verifySetupState: (state) => verifySetupState(setupKey, state, Date.now()),
    },

    async exchangeCode(_vendor, input) {
      if (!input.installation) throw refused('no installation was chosen through the app’s setup redirect');
      const choice = input.installation;
      const audited = { audit: input.audit };
      const user = await call(audited, { action: 'oauth.exchange-code', scope: GITHUB_SCOPES.join(' ') }, () =>
        oauth.exchangeCode({
          code: input.code,
          redirectUri: input.redirectUri,
          codeVerifier: input.codeVerifier,
          requestedScopes: GITHUB_SCOPES,
        }),
      );
      const installation = await verifyInstallationChoice(audited, user.accessToken, choice);
      const token = await call(audited, { action: 'installation.create-token', scope: GITHUB_SCOPES.join(' ') }, () =>
        installationToken(installation.installationId, choice.controls.repos),
      );
      return {
        ...token,
        refreshToken: user.refreshToken,
        grantedScopes: [...GITHUB_SCOPES],
        metadata: { installationId: String(installation.installationId), account: installation.account },
      };
    },

    // T17: the installation token is re-minted with only the consented scopes' permissions; the
    // user token's permissions are fixed by the app (GitHub ignores `scope`), and it reads no data.
    async refresh(ctx) {
      const consented = ctx.scopes.join(' ');
      const user = ctx.credential.refreshToken
        ? await call(ctx, { action: 'oauth.refresh', scope: consented }, () =>
            oauth.refresh(ctx.credential.refreshToken!, GITHUB_SCOPES),
          )
        : undefined;
      const token = await call(ctx, { action: 'installation.create-token', scope: consented }, () =>
        installationToken(installationId(ctx), controlledRepos(ctx), ctx.scopes),
      );
      return {
        ...token,
        refreshToken: user?.refreshToken ?? ctx.credential.refreshToken,
        grantedScopes: GITHUB_SCOPES.filter((scope) => ctx.scopes.includes(scope)),
        metadata: ctx.credential.metadata,
      };
    },

    async testConnection(ctx) {
      await call(ctx, { action: 'installation.list-repos', scope: SCOPE_READ }, () => listInstallationRepos(ctx, 1));
    },

    async revoke(ctx) {
      await call(ctx, { action: 'installation.revoke-token', scope: SCOPE_READ }, async () => {
        try {
          await tokenOctokit(ctx).rest.apps.revokeInstallationAccessToken();
        } catch (error) {
          // Already expired or revoked: nothing left to revoke.
          if ((error as { status?: number }).status !== 401) throw error;
        }
      });
      // Only the installation this integration bound is ours to remove; any other may serve someone else.
      if (ctx.boundInstallationId === String(installationId(ctx))) {
        await call(ctx, { action: 'installation.delete', scope: SCOPE_READ }, async () => {
          try {
            await appOctokit.rest.apps.deleteInstallation({ installation_id: installationId(ctx) });
          } catch (error) {
            // Already uninstalled (a retry, or the owner removed it): nothing left to remove.
            if ((error as { status?: number }).status !== 404) throw error;
          }
        });
      }
      return { revoked: true, note: githubDescriptor.revocation.note };
    },

    // GitHub App webhooks are app-level (set in the app's settings) and cover every installation.
    // A GitHub App has ONE webhook URL for all installations (set in the app's settings), so nothing
    // is registered at GitHub. The returned `app-webhook` subscription is the routing key the API's
    // app-level receiver uses to bind a delivery to this workspace (`route_app_webhook`); it never
    // expires, and deleting it (disconnect) stops the routing.
    registerWebhooks: async (ctx): Promise<Subscription[]> => [
      { externalId: githubRoutingKey(installationId(ctx)), resource: APP_WEBHOOK_RESOURCE },
    ],
    renewSubscription: async (_ctx, subscription) => subscription,
    deleteSubscription: async () => undefined,

    async fetchPage(ctx, input) {
      if (input.resource === 'repositories') {
        const page = input.cursor ? Number(input.cursor) : 1;
        const { repos, hasNext } = await call(ctx, { action: 'installation.list-repos', scope: SCOPE_READ }, () =>
          listInstallationRepos(ctx, page),
        );
        const controlled = controlledRepos(ctx);
        const records = repos
          .filter((repo) => !controlled || controlled.includes(String(repo.full_name)))
          .map((repo) => ({
            resource: 'repositories',
            externalId: String(repo.id),
            version: String(repo.updated_at),
            payload: repo,
          }));
        return {
          records,
          deletedExternalIds: [],
          nextCursor: hasNext ? String(page + 1) : null,
          roundComplete: !hasNext,
        };
      }
      if (input.resource === 'issues' || input.resource === 'releases') {
        const resource = input.resource;
        return call(ctx, { action: `${resource}.list`, scope: SCOPE_READ }, () =>
          walkRepos(ctx, resource, input.cursor),
        );
      }
      throw new VendorError(
        VendorFailureType.OutsideCustomerControls,
        VENDOR,
        `resource ${input.resource} is not in the matrix's data in`,
      );
    },

    async perform(ctx, action, input) {
      return call(ctx, { action, scope: SCOPE_WRITE }, async () => {
        if (!githubDescriptor.dataOut.includes(action))
          throw new VendorError(
            VendorFailureType.OutsideCustomerControls,
            VENDOR,
            `action ${action} is not in the matrix's data out`,
          );
        const { owner, repo } = assertRepoAllowed(ctx, requireString(input, 'repository'));
        const octokit = tokenOctokit(ctx);
        if (action === 'create-issue') {
          const { data } = await octokit.rest.issues.create({
            owner,
            repo,
            title: requireString(input, 'title'),
            body: optionalString(input, 'body'),
          });
          return { externalId: String(data.id), number: data.number, url: data.html_url };
        }
        if (action === 'create-comment') {
          const { data } = await octokit.rest.issues.createComment({
            owner,
            repo,
            issue_number: Number(input.issueNumber),
            body: requireString(input, 'body'),
          });
          return { externalId: String(data.id), url: data.html_url };
        }
        const state = requireString(input, 'state');
        if (!['error', 'failure', 'pending', 'success'].includes(state)) throw invalidInput('state');
        const { data } = await octokit.rest.repos.createCommitStatus({
          owner,
          repo,
          sha: requireString(input, 'sha'),
          state: state as 'error' | 'failure' | 'pending' | 'success',
          context: optionalString(input, 'context'),
          description: optionalString(input, 'description'),
          target_url: optionalString(input, 'targetUrl'),
        });
        return { externalId: String(data.id), url: data.url };
      });
    },
  } satisfies Connector;
}

function hasNextLink(link: string | undefined): boolean {
  return link !== undefined && /rel="next"/.test(link);
}

function refused(reason: string): VendorError {
  return new VendorError(VendorFailureType.InstallationRefused, VENDOR, reason);
}

function invalidInput(field: string): VendorError {
  return new VendorError(VendorFailureType.VendorRejected, VENDOR, `invalid input: ${field}`);
}

function requireString(input: Record<string, unknown>, field: string): string {
  const value = input[field];
  if (typeof value !== 'string' || value.length === 0) throw invalidInput(field);
  return value;
}

function optionalString(input: Record<string, unknown>, field: string): string | undefined {
  const value = input[field];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidInput(field);
  return value;
}
