/**
 * GitHub emulator: the REST endpoints our GitHub App connector uses, following GitHub's contract —
 * app JWTs (RS256, ≤ 10 min) verified with the app's public key; installation tokens (1 h) narrowed
 * to repositories and permissions; 401 for revoked/expired tokens; 404 for repositories outside the
 * token; `Link` pagination (`per_page` ≤ 100); `since`; ETag / 304 (304 costs no rate limit);
 * `x-ratelimit-*` and the primary limit counted per installation (429 + `x-ratelimit-remaining: 0` until
 * `x-ratelimit-reset` once spent); storms of 429 or 403 + `x-ratelimit-remaining: 0`; user authorization with PKCE
 * S256 and rotating refresh tokens (8 h / 6 months); HMAC-signed webhook deliveries; the app's
 * installation page (`/apps/<slug>/installations/new?state=…`), where only an owner of an account
 * installs or configures the app, then redirected to the app's Setup URL with `installation_id`,
 * `setup_action` and the `state` untouched; user-to-server reads of an installation's repositories
 * with the user's own permission on each (owners: admin, members: push).
 */
import crypto from 'node:crypto';
import { jwtVerify } from 'jose';
import {
  EmulatorRouter,
  bearerToken,
  consentRedirect,
  createAppAuthority,
  createEmulatorClock,
  createRateStorm,
  postDelivery,
  randomToken,
  startEmulatorServer,
  type EmulatorClock,
  type EmulatorRequest,
  type EmulatorResponse,
  type FaultMode,
  type LoggedRequest,
} from '../shared';
import { githubTemplates, webhookExample } from './templates';

type Json = Record<string, unknown>;
export type GithubPermissions = Record<string, 'read' | 'write'>;

export interface GithubEmulatorOptions {
  appId: string;
  /** PEM (SPKI) public key of the app: JWTs are verified against it. */
  appPublicKey: string;
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  webhookSecret: string;
  /** The app's URL name (`github.com/apps/<slug>`). */
  appSlug: string;
  /** The app's "Setup URL": where GitHub sends the browser after an installation is created or configured. */
  setupUrl?: string;
  /** The app's permissions, granted to an installation created on the installation page. */
  appPermissions?: GithubPermissions;
  clock?: EmulatorClock;
  /**
   * The primary limit of each installation: `limit` requests per window from the first (default
   * GitHub's 5,000 per hour). Tests shorten it to check budgets against a vendor that enforces one.
   */
  rateLimit?: { limit: number; windowMs: number };
  /** Injected latency and failures on every request (the chaos harness). */
  faults?: FaultMode;
}

/** Documented lifetimes: installation token 1 h, user token 8 h, refresh token 6 months. */
const INSTALLATION_TOKEN_TTL_MS = 60 * 60_000;
const USER_TOKEN_TTL_MS = 8 * 60 * 60_000;
const USER_REFRESH_TTL_MS = 183 * 24 * 60 * 60_000;
/** GitHub rejects app JWTs whose lifetime exceeds 10 minutes. */
const MAX_APP_JWT_LIFETIME_S = 600;
/** Installation primary limit (5,000/h base). */
const DEFAULT_RATE_LIMIT = { limit: 5000, windowMs: 60 * 60_000 };
const MAX_PER_PAGE = 100;
const DEFAULT_PER_PAGE = 30;

interface RepoState {
  id: number;
  owner: string;
  name: string;
  description: string | null;
  issues: Json[];
  releases: Json[];
  statuses: Json[];
  comments: Json[];
  nextIssueNumber: number;
}

interface InstallationState {
  id: number;
  account: string;
  repositorySelection: 'all' | 'selected';
  repositories: Set<string>;
  permissions: GithubPermissions;
  users: Set<string>;
  deleted: boolean;
}

interface InstallationToken {
  installationId: number;
  repositories: Set<string>;
  permissions: GithubPermissions;
  expiresAt: number;
}

export interface GithubEmulator {
  url: string;
  stop(): Promise<void>;
  control: GithubEmulatorControl;
}

export interface GithubEmulatorControl {
  clock: EmulatorClock;
  requests: LoggedRequest[];
  addRepository(fullName: string, description?: string): void;
  /** The repository's numeric id, as the API lists it. */
  repositoryId(fullName: string): number;
  /**
   * Installs the app on `account` for `repositories`; `users` can see it (push on its repositories),
   * `owners` become the account's owners (admin on all its repositories; default: none added).
   */
  install(input: {
    account: string;
    repositories: string[];
    permissions: GithubPermissions;
    users: string[];
    owners?: string[];
  }): number;
  /** The signed-in user of the browser: approves the next authorize request, visits the installation page. */
  setAuthorizingUser(login: string): void;
  /**
   * Signs `login` in for one browser: the answer is the `Cookie` header value that browser sends, and
   * its installation page and authorize requests are `login`'s, whoever `setAuthorizingUser` named.
   */
  signIn(login: string): string;
  /**
   * The account the installation page installs on or configures next (default: an account of the
   * user's that has the app already, else the user's own).
   */
  setInstallTarget(account: string | undefined): void;
  installation(id: number): { account: string; repositories: string[]; deleted: boolean } | undefined;
  addIssue(fullName: string, input: { title: string; body?: string; pullRequest?: boolean }): Json;
  updateIssue(fullName: string, number: number, patch: { title?: string; state?: 'open' | 'closed' }): Json;
  addRelease(fullName: string, tagName: string): Json;
  /** Removes an issue; sends the signed `issues.deleted` delivery when `webhookUrl` is given. */
  deleteIssue(fullName: string, number: number, webhookUrl?: string): Promise<number | undefined>;
  issues(fullName: string): Json[];
  comments(fullName: string): Json[];
  statuses(fullName: string): Json[];
  /** What an installation's tokens spent since the start: requests counted and requests refused for the primary limit. */
  rateLimitUse(installationId: number): { counted: number; throttled: number };
  /** Next `count` requests are throttled: 429, or 403 with `x-ratelimit-remaining: 0` (primary limit). */
  startRateLimitStorm(count: number, options: { status: 429 | 403; retryAfterSeconds?: number }): void;
  revokeUserTokens(login: string): void;
  /** Signs `payload` with the webhook secret and POSTs it; returns the receiver's status. */
  sendWebhook(
    url: string,
    input: { event: string; payload: Json; deliveryId?: string; secret?: string },
  ): Promise<number>;
}

export async function startGithubEmulator(options: GithubEmulatorOptions): Promise<GithubEmulator> {
  const clock = options.clock ?? createEmulatorClock();
  const appPublicKey = crypto.createPublicKey(options.appPublicKey);
  const authority = createAppAuthority(options, {
    clock,
    accessTokenTtlMs: USER_TOKEN_TTL_MS,
    refreshTokenTtlMs: USER_REFRESH_TTL_MS,
    // GitHub invalidates a refresh token on use; no grace documented.
    refreshReuseGraceMs: 0,
    tokenPrefix: { access: 'ghu_', refresh: 'ghr_' },
  });
  const repos = new Map<string, RepoState>();
  const installations = new Map<number, InstallationState>();
  const tokens = new Map<string, InstallationToken>();
  const rateLimit = options.rateLimit ?? DEFAULT_RATE_LIMIT;
  /** GitHub counts installation tokens per installation, user tokens per user (here: per token). */
  const rateUsed = new Map<string, { used: number; resetAt: number }>();
  const rateTotals = new Map<string, { counted: number; throttled: number }>();
  const rateKey = (token: string): string => {
    const grant = tokens.get(token);
    return grant ? `installation:${grant.installationId}` : `user-token:${token}`;
  };
  const totalsOf = (key: string) => {
    const totals = rateTotals.get(key) ?? { counted: 0, throttled: 0 };
    rateTotals.set(key, totals);
    return totals;
  };
  const storm = createRateStorm();
  const accountOwners = new Map<string, Set<string>>();
  let authorizingUser = 'octocat';
  /** Browser sessions (`user_session` cookie) → signed-in user. */
  const sessions = new Map<string, string>();
  /** The request's signed-in user: its browser session's, else the emulator-wide one. */
  const userOf = (request: EmulatorRequest): string => {
    const session = /(?:^|;\s*)user_session=([^;]+)/.exec(request.headers.cookie ?? '')?.[1];
    return (session && sessions.get(session)) ?? authorizingUser;
  };
  let installTarget: string | undefined;
  let nextId = 1000;
  let baseUrl = '';

  const repo = (fullName: string): RepoState => {
    const found = repos.get(fullName);
    if (!found) throw new Error(`emulator has no repository ${fullName}`);
    return found;
  };
  const now = () => clock.now();
  const iso = (ms = now()) => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

  function error(status: number, message: string, headers: Record<string, string> = {}): EmulatorResponse {
    return { status, headers, body: { message, documentation_url: 'https://docs.github.com/rest' } };
  }

  /** The key's current window, opened by its first request. */
  function rateWindow(key: string): { used: number; resetAt: number } {
    const entry = rateUsed.get(key);
    const state = entry && entry.resetAt > now() ? entry : { used: 0, resetAt: now() + rateLimit.windowMs };
    rateUsed.set(key, state);
    return state;
  }

  function rateHeaders(token: string, count: boolean): Record<string, string> {
    const key = rateKey(token);
    const state = rateWindow(key);
    if (count) {
      state.used += 1;
      totalsOf(key).counted += 1;
    }
    return {
      'x-ratelimit-limit': String(rateLimit.limit),
      'x-ratelimit-remaining': String(Math.max(0, rateLimit.limit - state.used)),
      'x-ratelimit-used': String(state.used),
      'x-ratelimit-reset': String(Math.ceil(state.resetAt / 1000)),
      'x-ratelimit-resource': 'core',
    };
  }

  /** GitHub's answer once the primary limit is spent: 429 (or 403) with `x-ratelimit-remaining: 0` until the reset. */
  function primaryLimitSpent(token: string): EmulatorResponse | undefined {
    const key = rateKey(token);
    const state = rateWindow(key);
    if (state.used < rateLimit.limit) return undefined;
    totalsOf(key).throttled += 1;
    return error(429, 'API rate limit exceeded for installation.', {
      'x-ratelimit-limit': String(rateLimit.limit),
      'x-ratelimit-remaining': '0',
      'x-ratelimit-used': String(state.used),
      'x-ratelimit-reset': String(Math.ceil(state.resetAt / 1000)),
      'x-ratelimit-resource': 'core',
    });
  }

  /** Authenticates an installation token, optionally for a repository and permission. */
  function installationAuth(
    request: EmulatorRequest,
    need: { repository?: string; permission?: [string, 'read' | 'write'] } = {},
  ): { token: string; grant: InstallationToken } | EmulatorResponse {
    const token = bearerToken(request);
    const grant = token ? tokens.get(token) : undefined;
    if (!token || !grant || grant.expiresAt <= now() || installations.get(grant.installationId)?.deleted)
      return error(401, 'Bad credentials');
    // GitHub hides repositories a token cannot see behind 404.
    if (need.repository && !grant.repositories.has(need.repository)) return error(404, 'Not Found');
    if (need.permission) {
      const [name, level] = need.permission;
      const held = grant.permissions[name];
      if (!held || (level === 'write' && held !== 'write')) return error(403, 'Resource not accessible by integration');
    }
    return primaryLimitSpent(token) ?? { token, grant };
  }

  async function appAuth(request: EmulatorRequest): Promise<EmulatorResponse | undefined> {
    const jwt = bearerToken(request);
    if (!jwt) return error(401, 'A JSON web token could not be decoded');
    try {
      const { payload } = await jwtVerify(jwt, appPublicKey, {
        algorithms: ['RS256'],
        currentDate: new Date(now()),
        clockTolerance: 60,
      });
      if (String(payload.iss) !== options.appId) return error(401, 'Integration not found');
      if (
        payload.iat === undefined ||
        payload.exp === undefined ||
        payload.exp - payload.iat > MAX_APP_JWT_LIFETIME_S
      ) {
        return error(401, "'Expiration time' claim ('exp') is too far in the future");
      }
      return undefined;
    } catch {
      return error(401, 'A JSON web token could not be decoded');
    }
  }

  /** Pages `items` GitHub-style and answers 304 when the client's ETag still matches. */
  function pagedJson(
    request: EmulatorRequest,
    token: string,
    items: unknown[],
    wrap?: (page: unknown[]) => Json,
  ): EmulatorResponse {
    const perPage = Math.min(MAX_PER_PAGE, Math.max(1, Number(request.query.get('per_page') ?? DEFAULT_PER_PAGE)));
    const page = Math.max(1, Number(request.query.get('page') ?? 1));
    const lastPage = Math.max(1, Math.ceil(items.length / perPage));
    const slice = items.slice((page - 1) * perPage, page * perPage);
    const body = wrap ? wrap(slice) : slice;
    const etag = `W/"${crypto.createHash('sha1').update(JSON.stringify(body)).digest('hex')}"`;
    if (request.headers['if-none-match'] === etag) {
      // Conditional hits do not count against the primary rate limit.
      return { status: 304, headers: { etag, ...rateHeaders(token, false) } };
    }
    const links: string[] = [];
    const linkTo = (target: number, rel: string) => {
      const url = new URL(`${baseUrl}${request.path}`);
      request.query.forEach((value, key) => url.searchParams.set(key, value));
      url.searchParams.set('per_page', String(perPage));
      url.searchParams.set('page', String(target));
      links.push(`<${url.toString()}>; rel="${rel}"`);
    };
    if (page > 1) linkTo(page - 1, 'prev');
    if (page < lastPage) {
      linkTo(page + 1, 'next');
      linkTo(lastPage, 'last');
    }
    return {
      status: 200,
      headers: { etag, ...(links.length ? { link: links.join(', ') } : {}), ...rateHeaders(token, true) },
      body,
    };
  }

  /** A user owns their own account and the organisations that list them as owner. */
  const isOwner = (login: string, account: string): boolean =>
    login === account || (accountOwners.get(account)?.has(login) ?? false);

  /** GitHub shows a user an installation they own or were given access to. */
  const visibleTo = (installation: InstallationState, login: string): boolean =>
    !installation.deleted && (installation.users.has(login) || isOwner(login, installation.account));

  function userAuth(request: EmulatorRequest): { token: string; login: string } | EmulatorResponse {
    const token = bearerToken(request);
    const grant = token ? authority.validateAccessToken(token) : undefined;
    if (!token || !grant) return error(401, 'Bad credentials');
    return { token, login: grant.subject };
  }

  /** The installation page: an owner installs the app on an account (or configures the existing installation). */
  function installationPage(request: EmulatorRequest): EmulatorResponse {
    if (request.params.slug !== options.appSlug) return error(404, 'Not Found');
    const user = userOf(request);
    // GitHub lists the user's accounts; by default the user configures one that already has the app.
    const account =
      installTarget ??
      [...installations.values()].find((item) => !item.deleted && isOwner(user, item.account))?.account ??
      user;
    if (!isOwner(user, account))
      return { status: 403, body: `Only an owner of ${account} can install or configure this app on it.` };
    let installation = [...installations.values()].find((item) => !item.deleted && item.account === account);
    const setupAction = installation ? 'update' : 'install';
    if (!installation) {
      const id = control.install({
        account,
        repositories: [...repos.values()]
          .filter((item) => item.owner === account)
          .map((item) => `${account}/${item.name}`),
        permissions: options.appPermissions ?? {
          metadata: 'read',
          contents: 'read',
          issues: 'write',
          statuses: 'write',
        },
        users: [user],
      });
      installation = installations.get(id)!;
      installation.repositorySelection = 'all';
    }
    if (!options.setupUrl) return { status: 200, body: `Installed on ${account}.` };
    const target = new URL(options.setupUrl);
    target.searchParams.set('installation_id', String(installation.id));
    target.searchParams.set('setup_action', setupAction);
    const state = request.query.get('state');
    if (state !== null) target.searchParams.set('state', state);
    return { status: 302, headers: { location: target.toString() } };
  }

  function created(token: string, body: Json): EmulatorResponse {
    return { status: 201, headers: { location: String(body.url), ...rateHeaders(token, true) }, body };
  }

  const router = new EmulatorRouter()
    .on('GET', '/login/oauth/authorize', (request) =>
      consentRedirect(authority, request, { scopes: [], subject: userOf(request), pkce: 'optional', state: 'always' }),
    )
    .on('POST', '/login/oauth/access_token', (request) => {
      const body = (request.body ?? {}) as Record<string, string>;
      const client = { clientId: body.client_id ?? '', clientSecret: body.client_secret ?? '' };
      const result =
        body.grant_type === 'refresh_token'
          ? authority.refresh({ ...client, refreshToken: body.refresh_token ?? '' })
          : authority.exchangeCode({
              ...client,
              code: body.code ?? '',
              redirectUri: body.redirect_uri ?? '',
              codeVerifier: body.code_verifier,
            });
      // GitHub answers token errors with 200 and an `error` field.
      if (!result.ok) {
        const code =
          result.error === 'invalid_client'
            ? 'incorrect_client_credentials'
            : body.grant_type === 'refresh_token'
              ? 'bad_refresh_token'
              : 'bad_verification_code';
        return { status: 200, body: { error: code, error_description: result.description } };
      }
      const issued = result.value;
      return {
        status: 200,
        body: {
          access_token: issued.accessToken,
          expires_in: issued.expiresInSeconds,
          refresh_token: issued.refreshToken,
          refresh_token_expires_in: issued.refreshTokenExpiresInSeconds,
          scope: '',
          token_type: 'bearer',
        },
      };
    })
    .on('GET', '/apps/:slug/installations/new', installationPage)
    .on('GET', '/user/installations', (request) => {
      const auth = userAuth(request);
      if (!('token' in auth)) return auth;
      const visible = [...installations.values()].filter((item) => visibleTo(item, auth.login));
      return pagedJson(request, auth.token, visible.map(installationJson), (page) => ({
        total_count: visible.length,
        installations: page,
      }));
    })
    .on('GET', '/user/installations/:id/repositories', (request) => {
      const auth = userAuth(request);
      if (!('token' in auth)) return auth;
      const installation = installations.get(Number(request.params.id));
      if (!installation || !visibleTo(installation, auth.login)) return error(404, 'Not Found');
      const admin = isOwner(auth.login, installation.account);
      const visible = [...installation.repositories].sort().map((name) => ({
        ...repositoryJson(repo(name)),
        permissions: { admin, maintain: admin, push: true, triage: true, pull: true },
      }));
      return pagedJson(request, auth.token, visible, (page) => ({
        total_count: visible.length,
        repository_selection: installation.repositorySelection,
        repositories: page,
      }));
    })
    .on('GET', '/app/installations/:id', async (request) => {
      const denied = await appAuth(request);
      if (denied) return denied;
      const installation = installations.get(Number(request.params.id));
      if (!installation || installation.deleted) return error(404, 'Not Found');
      return { status: 200, body: installationJson(installation) };
    })
    .on('POST', '/app/installations/:id/access_tokens', async (request) => {
      const denied = await appAuth(request);
      if (denied) return denied;
      const installation = installations.get(Number(request.params.id));
      if (!installation || installation.deleted) return error(404, 'Not Found');
      const body = (request.body ?? {}) as { repositories?: string[]; permissions?: GithubPermissions };
      const permissions = body.permissions ?? installation.permissions;
      for (const [name, level] of Object.entries(permissions)) {
        const held = installation.permissions[name];
        if (!held || (level === 'write' && held !== 'write'))
          return error(422, `The permissions requested are not granted to this installation.`);
      }
      const names = body.repositories?.map((name) => `${installation.account}/${name}`) ?? [
        ...installation.repositories,
      ];
      if (names.some((name) => !installation.repositories.has(name)))
        return error(
          422,
          'There is at least one repository that does not exist or is not accessible to the parent installation.',
        );
      const token = randomToken('ghs_');
      const expiresAt = now() + INSTALLATION_TOKEN_TTL_MS;
      tokens.set(token, { installationId: installation.id, repositories: new Set(names), permissions, expiresAt });
      return {
        status: 201,
        body: {
          ...githubTemplates.installationToken(),
          token,
          expires_at: iso(expiresAt),
          permissions,
          repository_selection: 'selected',
          repositories: names.map((name) => repositoryJson(repo(name))),
        },
      };
    })
    .on('DELETE', '/app/installations/:id', async (request) => {
      const denied = await appAuth(request);
      if (denied) return denied;
      const installation = installations.get(Number(request.params.id));
      if (!installation || installation.deleted) return error(404, 'Not Found');
      installation.deleted = true;
      return { status: 204 };
    })
    .on('DELETE', '/installation/token', (request) => {
      const auth = installationAuth(request);
      if (!('token' in auth)) return auth;
      tokens.delete(auth.token);
      return { status: 204 };
    })
    .on('GET', '/installation/repositories', (request) => {
      const auth = installationAuth(request);
      if (!('token' in auth)) return auth;
      const visible = [...auth.grant.repositories].sort().map((name) => repositoryJson(repo(name)));
      return pagedJson(request, auth.token, visible, (page) => ({
        total_count: visible.length,
        repository_selection: installations.get(auth.grant.installationId)!.repositorySelection,
        repositories: page,
      }));
    })
    .on('GET', '/repos/:owner/:repo/issues', (request) => {
      const fullName = `${request.params.owner}/${request.params.repo}`;
      const auth = installationAuth(request, { repository: fullName, permission: ['issues', 'read'] });
      if (!('token' in auth)) return auth;
      const since = request.query.get('since');
      const state = request.query.get('state') ?? 'open';
      const sort = request.query.get('sort') ?? 'created';
      const ascending = request.query.get('direction') === 'asc';
      const items = repo(fullName)
        .issues.filter((issue) => state === 'all' || issue.state === state)
        .filter((issue) => !since || Date.parse(String(issue.updated_at)) >= Date.parse(since))
        .sort((a, b) => {
          const key = sort === 'updated' ? 'updated_at' : 'created_at';
          const order = Date.parse(String(a[key])) - Date.parse(String(b[key])) || Number(a.number) - Number(b.number);
          return ascending ? order : -order;
        });
      return pagedJson(request, auth.token, items);
    })
    .on('GET', '/repos/:owner/:repo/releases', (request) => {
      const fullName = `${request.params.owner}/${request.params.repo}`;
      const auth = installationAuth(request, { repository: fullName, permission: ['contents', 'read'] });
      if (!('token' in auth)) return auth;
      return pagedJson(request, auth.token, [...repo(fullName).releases].reverse());
    })
    .on('POST', '/repos/:owner/:repo/issues', (request) => {
      const fullName = `${request.params.owner}/${request.params.repo}`;
      const auth = installationAuth(request, { repository: fullName, permission: ['issues', 'write'] });
      if (!('token' in auth)) return auth;
      const body = (request.body ?? {}) as { title?: string; body?: string };
      if (!body.title) return error(422, 'Validation Failed');
      return created(auth.token, control.addIssue(fullName, { title: body.title, body: body.body }));
    })
    .on('POST', '/repos/:owner/:repo/issues/:number/comments', (request) => {
      const fullName = `${request.params.owner}/${request.params.repo}`;
      const auth = installationAuth(request, { repository: fullName, permission: ['issues', 'write'] });
      if (!('token' in auth)) return auth;
      const state = repo(fullName);
      const issue = state.issues.find((item) => item.number === Number(request.params.number));
      const text = (request.body as { body?: string } | undefined)?.body;
      if (!issue) return error(404, 'Not Found');
      if (!text) return error(422, 'Validation Failed');
      const id = nextId++;
      const comment = {
        ...githubTemplates.issueComment(),
        id,
        node_id: `IC_${id}`,
        url: `${baseUrl}/repos/${fullName}/issues/comments/${id}`,
        html_url: `https://github.com/${fullName}/issues/${String(issue.number)}#issuecomment-${id}`,
        issue_url: String(issue.url),
        body: text,
        created_at: iso(),
        updated_at: iso(),
      };
      state.comments.push(comment);
      issue.comments = Number(issue.comments) + 1;
      return created(auth.token, comment);
    })
    .on('POST', '/repos/:owner/:repo/statuses/:sha', (request) => {
      const fullName = `${request.params.owner}/${request.params.repo}`;
      const auth = installationAuth(request, { repository: fullName, permission: ['statuses', 'write'] });
      if (!('token' in auth)) return auth;
      const body = (request.body ?? {}) as {
        state?: string;
        target_url?: string;
        description?: string;
        context?: string;
      };
      if (!body.state || !['error', 'failure', 'pending', 'success'].includes(body.state))
        return error(422, 'Validation Failed');
      const id = nextId++;
      const status = {
        ...githubTemplates.status(),
        id,
        node_id: `SC_${id}`,
        url: `${baseUrl}/repos/${fullName}/statuses/${request.params.sha}`,
        state: body.state,
        description: body.description ?? null,
        target_url: body.target_url ?? null,
        context: body.context ?? 'default',
        created_at: iso(),
        updated_at: iso(),
      };
      repo(fullName).statuses.push(status);
      return created(auth.token, status);
    });

  function installationJson(installation: InstallationState): Json {
    const template = githubTemplates.installation();
    return {
      ...template,
      id: installation.id,
      account: { ...(template.account as Json), login: installation.account },
      repository_selection: installation.repositorySelection,
      permissions: installation.permissions,
      app_id: Number(options.appId),
    };
  }

  function repositoryJson(state: RepoState): Json {
    const template = githubTemplates.repository();
    const fullName = `${state.owner}/${state.name}`;
    return {
      ...template,
      id: state.id,
      node_id: `R_${state.id}`,
      name: state.name,
      full_name: fullName,
      owner: { ...(template.owner as Json), login: state.owner },
      private: true,
      description: state.description,
      url: `${baseUrl}/repos/${fullName}`,
      html_url: `https://github.com/${fullName}`,
    };
  }

  const control: GithubEmulatorControl = {
    clock,
    requests: [],
    addRepository(fullName, description) {
      const [owner, name] = fullName.split('/') as [string, string];
      repos.set(fullName, {
        id: nextId++,
        owner,
        name,
        description: description ?? null,
        issues: [],
        releases: [],
        statuses: [],
        comments: [],
        nextIssueNumber: 1,
      });
    },
    repositoryId: (fullName) => repo(fullName).id,
    install(input) {
      const id = nextId++;
      for (const owner of input.owners ?? []) {
        const owners = accountOwners.get(input.account) ?? new Set<string>();
        accountOwners.set(input.account, owners.add(owner));
      }
      installations.set(id, {
        id,
        account: input.account,
        repositorySelection: 'selected',
        repositories: new Set(input.repositories),
        permissions: input.permissions,
        users: new Set(input.users),
        deleted: false,
      });
      return id;
    },
    setAuthorizingUser(login) {
      authorizingUser = login;
    },
    signIn(login) {
      const session = crypto.randomBytes(16).toString('hex');
      sessions.set(session, login);
      return `user_session=${session}`;
    },
    setInstallTarget(account) {
      installTarget = account;
    },
    installation(id) {
      const found = installations.get(id);
      return found && { account: found.account, repositories: [...found.repositories], deleted: found.deleted };
    },
    addIssue(fullName, input) {
      const state = repo(fullName);
      const number = state.nextIssueNumber++;
      const id = nextId++;
      const issue: Json = {
        ...githubTemplates.issue(),
        id,
        node_id: `I_${id}`,
        number,
        title: input.title,
        body: input.body ?? null,
        state: 'open',
        comments: 0,
        url: `${baseUrl}/repos/${fullName}/issues/${number}`,
        repository_url: `${baseUrl}/repos/${fullName}`,
        html_url: `https://github.com/${fullName}/issues/${number}`,
        created_at: iso(),
        updated_at: iso(),
        closed_at: null,
      };
      if (input.pullRequest)
        issue.pull_request = {
          url: `${baseUrl}/repos/${fullName}/pulls/${number}`,
          html_url: null,
          diff_url: null,
          patch_url: null,
        };
      else delete issue.pull_request;
      state.issues.push(issue);
      return issue;
    },
    updateIssue(fullName, number, patch) {
      const issue = repo(fullName).issues.find((item) => item.number === number);
      if (!issue) throw new Error(`no issue ${fullName}#${number}`);
      Object.assign(issue, patch, { updated_at: iso() }, patch.state === 'closed' ? { closed_at: iso() } : {});
      return issue;
    },
    addRelease(fullName, tagName) {
      const id = nextId++;
      const release = {
        ...githubTemplates.release(),
        id,
        node_id: `RE_${id}`,
        tag_name: tagName,
        name: tagName,
        url: `${baseUrl}/repos/${fullName}/releases/${id}`,
        html_url: `https://github.com/${fullName}/releases/tag/${tagName}`,
        created_at: iso(),
        published_at: iso(),
      };
      repo(fullName).releases.push(release);
      return release;
    },
    async deleteIssue(fullName, number, webhookUrl) {
      const state = repo(fullName);
      const issue = state.issues.find((item) => item.number === number);
      if (!issue) throw new Error(`no issue ${fullName}#${number}`);
      state.issues = state.issues.filter((item) => item !== issue);
      if (!webhookUrl) return undefined;
      const payload = webhookExample('issues', 'deleted');
      payload.issue = { ...(payload.issue as Json), id: issue.id, number: issue.number, node_id: issue.node_id };
      payload.repository = { ...(payload.repository as Json), id: state.id, name: state.name, full_name: fullName };
      return control.sendWebhook(webhookUrl, { event: 'issues', payload });
    },
    issues: (fullName) => repo(fullName).issues,
    comments: (fullName) => repo(fullName).comments,
    statuses: (fullName) => repo(fullName).statuses,
    rateLimitUse(installationId) {
      return { ...totalsOf(`installation:${installationId}`) };
    },
    startRateLimitStorm(count, stormOptions) {
      const retryAfter: Record<string, string> =
        stormOptions.retryAfterSeconds === undefined ? {} : { 'retry-after': String(stormOptions.retryAfterSeconds) };
      storm.start(count, {
        status: stormOptions.status,
        headers: {
          ...retryAfter,
          'x-ratelimit-limit': String(rateLimit.limit),
          'x-ratelimit-remaining': stormOptions.status === 403 ? '0' : '4000',
          'x-ratelimit-reset': String(Math.floor(now() / 1000) + 60),
          'x-ratelimit-resource': 'core',
        },
        body: {
          message:
            stormOptions.status === 403
              ? 'API rate limit exceeded for installation.'
              : 'You have exceeded a secondary rate limit.',
          documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api',
        },
      });
    },
    revokeUserTokens(login) {
      authority.revokeSubject(options.clientId, login);
    },
    sendWebhook(url, input) {
      const rawBody = JSON.stringify(input.payload);
      const signature = crypto
        .createHmac('sha256', input.secret ?? options.webhookSecret)
        .update(rawBody)
        .digest('hex');
      return postDelivery(url, rawBody, {
        'x-github-event': input.event,
        'x-github-delivery': input.deliveryId ?? crypto.randomUUID(),
        'x-hub-signature-256': `sha256=${signature}`,
        'user-agent': 'GitHub-Hookshot/emulator',
      });
    },
  };

  const server = await startEmulatorServer({ router, before: () => storm.intercept(), faults: options.faults });
  baseUrl = server.url;
  control.requests = server.requests;
  return { url: server.url, stop: server.stop, control };
}
