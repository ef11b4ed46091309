/**
 * Drives the API over HTTP as an admin against the sandbox vendors (`npm run demo`,
 * `npm run bench:api`): a bearer-token JSON client, polling, and the GitHub connect flow with the
 * browser's part (the authorize hand-off's consent session cookie; the emulator configures the app's
 * installation for its signed-in user, redirects to our Setup URL, consents and redirects to our
 * callback, which the cookie lets us complete).
 */
import type { IncomingHttpHeaders } from 'node:http';
import { request, type Dispatcher } from 'undici';
import { mintToken, resolveHsSecret } from '../api/auth';
import type { Config } from '../lib/config';

/** Repositories the sandbox installs the GitHub App on (emulators/sandbox.ts); a third stays invisible. */
export const SANDBOX_GITHUB_REPOS = ['acme/tower-a', 'acme/tower-b'];
/** The Google Workspace domain of the sandbox's signed-in Google user. */
export const SANDBOX_GOOGLE_DOMAIN = 'acme.example';
/** Connect, sync and disconnect finish in seconds against the emulators; this bounds a hung one. */
export const WAIT_TIMEOUT_MS = 60_000;
const POLL_MS = 250;

/** A step's expectation was not met: reported, not a crash. `status`: the API's unexpected answer, if that was it. */
export class StepFailed extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

export interface Run {
  workflowId: string;
  links: { temporalUi: string };
}

/** `onHeaders` sees the response's headers (bench:api reads `server-timing`). */
export type ApiClient = <T = Record<string, unknown>>(
  method: string,
  route: string,
  expect: number,
  body?: unknown,
  onHeaders?: (headers: IncomingHttpHeaders) => void,
) => Promise<T>;

/**
 * JSON in and out with a bearer token; an unexpected status becomes StepFailed with the problem's
 * title and detail. Through undici's `request` on keep-alive connections rather than `fetch`: the
 * WHATWG layer (streams, Headers, Response) costs the caller CPU that bench:api, with caller and
 * service on one machine, would otherwise charge to the API (fetch's frames were the load
 * generator's largest CPU share in a profile).
 */
export function apiClient(baseUrl: string, token: string): ApiClient {
  return async <T>(
    method: string,
    route: string,
    expect: number,
    body?: unknown,
    onHeaders?: (headers: IncomingHttpHeaders) => void,
  ): Promise<T> => {
    const response = await request(`${baseUrl}${route}`, {
      method: method as Dispatcher.HttpMethod,
      headers: {
        authorization: `Bearer ${token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await response.body.text();
    onHeaders?.(response.headers);
    const json = (text ? JSON.parse(text) : {}) as T & { title?: string; detail?: string };
    if (response.statusCode !== expect) {
      throw new StepFailed(
        `${method} ${route} answered ${response.statusCode} (expected ${expect}): ${json.title ?? ''} ${json.detail ?? ''}`.trim(),
        response.statusCode,
      );
    }
    return json;
  };
}

/** A development admin token for one workspace, signed with the API's HS256 secret. */
export async function adminToken(config: Config, workspaceId: string, subject: string): Promise<string> {
  const secret = resolveHsSecret(config);
  if (!secret)
    throw new StepFailed('no HS256 secret to mint an admin token (JWT_SECRET, or the DATA_DIR of the running service)');
  return mintToken({
    secret,
    issuer: config.auth.issuer,
    audience: config.auth.audience,
    sub: subject,
    workspaceId,
    role: 'admin',
    expiresIn: '1h',
  });
}

/** Polls `probe` until it answers a value. */
export async function until<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  options: { timeoutMs?: number; pollMs?: number } = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? WAIT_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new StepFailed(`${what}: not within ${timeoutMs / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, options.pollMs ?? POLL_MS));
  }
}

/** The browser's part of one step: the page must redirect; answers where to. `cookie`: the browser's session there. */
async function redirectOf(step: string, url: string, cookie?: string): Promise<string> {
  const response = await fetch(url, { redirect: 'manual', ...(cookie ? { headers: { cookie } } : {}) });
  const location = response.headers.get('location');
  if (response.status !== 302 || !location)
    throw new StepFailed(`${step} answered ${response.status} without a redirect: ${await response.text()}`);
  return location;
}

/**
 * A GitHub account of the sandbox to connect, and the browser session of its owner at the emulator
 * (none: the emulator's default signed-in user, owner of the sandbox's first account).
 */
export interface SandboxGithubAccount {
  repositories: string[];
  sessionCookie?: string;
}

/**
 * One more GitHub account of the sandbox, with its own installation of the app (the sandbox
 * `control` URL): an installation is bound to one workspace, so each workspace needs its own.
 */
export async function addSandboxGithubAccount(controlUrl: string): Promise<SandboxGithubAccount> {
  const response = await fetch(`${controlUrl}/github/accounts`, { method: 'POST' });
  if (response.status !== 201)
    throw new StepFailed(`sandbox control answered ${response.status}: ${await response.text()}`);
  return (await response.json()) as SandboxGithubAccount;
}

export interface Connection {
  integrationId: string;
  integrationPath: string;
  accepted: Run & { status: string };
  callbackStatus: number;
  grantedScopes: string[];
}

/**
 * Starts a connect through the API, takes the consent as the admin's browser would (`browse`: from
 * the vendor's authorize URL to our OAuth callback URL), presents the consent session cookie at the
 * callback and waits until the integration is connected.
 */
type ConnectAccepted = Run & { integrationId: string; authorizeUrl?: string; status: string };

/** A connect, or (with `integrationPath`) a reconnect with a new selection of controls: widening one is a new consent. */
export type ConsentRequest =
  | {
      workspaceId: string;
      vendor: string;
      controls?: Record<string, string[]>;
      /** SAML sign-in (identity rows): the IdP's metadata URL instead of OAuth. */
      saml?: { metadataUrl: string };
    }
  | { integrationPath: string; controls: Record<string, string[]> };

async function connectThroughBrowser(
  api: ApiClient,
  request: ConsentRequest,
  browse: (authorizeUrl: string) => Promise<string>,
): Promise<Connection> {
  const reconnect = 'integrationPath' in request;
  const accepted = reconnect
    ? await api<ConnectAccepted>('POST', `${request.integrationPath}/reconnect`, 202, { controls: request.controls })
    : await api<ConnectAccepted>('POST', `/v1/workspaces/${request.workspaceId}/integrations`, 202, {
        vendor: request.vendor,
        controls: request.controls,
        ...(request.saml ? { saml: request.saml } : {}),
      });
  const integrationPath = reconnect
    ? request.integrationPath
    : `/v1/workspaces/${request.workspaceId}/integrations/${accepted.integrationId}`;
  // The 202 carries the authorize link when the connect run published it within the API's short
  // wait; on a busy machine it may not have, and the status answer carries it once it has (until
  // the run first answers and writes its row, the integration is not found yet).
  const authorizeLink =
    accepted.authorizeUrl ??
    (await until('authorize link', async () => {
      type Status = { connect?: { authorizeUrl?: string; failure?: string } };
      const row = await api<Status>('GET', integrationPath, 200).catch((error: unknown): Status => {
        if (error instanceof StepFailed && error.status === 404) return {};
        throw error;
      });
      if (row.connect?.failure) throw new StepFailed(`connect failed: ${row.connect.failure}`);
      return row.connect?.authorizeUrl;
    }));
  // T2: the link hands the vendor's URL to us, who started the consent, with the consent session
  // cookie; the callback completes only in the browser that presents it.
  let sessionCookie: string | undefined;
  const { authorizeUrl } = await api<{ authorizeUrl: string }>(
    'GET',
    new URL(authorizeLink).pathname,
    200,
    undefined,
    (headers) => {
      sessionCookie = [headers['set-cookie'] ?? []].flat()[0]?.split(';')[0];
    },
  );
  if (!sessionCookie) throw new StepFailed('the authorize hand-off set no consent session cookie');
  const callback = await browse(authorizeUrl);
  const answered = await fetch(callback, { headers: { cookie: sessionCookie } });
  if (!answered.ok) throw new StepFailed(`the OAuth callback answered ${answered.status}: ${await answered.text()}`);
  const connected = await until('integration connected', async () => {
    const row = await api<{
      status: string;
      grantedScopes: string[];
      connect?: { status?: string; failure?: string };
    }>('GET', integrationPath, 200);
    if (row.status === 'failed' || row.connect?.failure)
      throw new StepFailed(`connect failed: ${row.connect?.failure ?? row.status}`);
    // A reconnect keeps the integration connected while its run goes on.
    return row.status === 'connected' && (row.connect === undefined || row.connect.status === 'connected')
      ? row
      : undefined;
  });
  return {
    integrationId: integrationPath.split('/').at(-1)!,
    integrationPath,
    accepted,
    callbackStatus: answered.status,
    grantedScopes: connected.grantedScopes,
  };
}

/**
 * Connects GitHub for the workspace through the API and waits until the integration is connected.
 * `atVendor` runs while the connect run waits for the consent, before the browser reaches GitHub
 * (the chaos harness restarts Temporal there).
 */
export function connectGithub(
  api: ApiClient,
  workspaceId: string,
  github: SandboxGithubAccount = { repositories: SANDBOX_GITHUB_REPOS },
  atVendor?: () => Promise<void>,
): Promise<Connection> {
  // The app's installation page → our Setup URL → the user authorization → our OAuth callback.
  // The GitHub session cookie goes to GitHub's pages only, never to ours.
  return connectThroughBrowser(
    api,
    { workspaceId, vendor: 'github', controls: { repos: github.repositories } },
    async (authorizeUrl) => {
      await atVendor?.();
      const setup = await redirectOf('the installation page', authorizeUrl, github.sessionCookie);
      const authorize = await redirectOf('the setup redirect', setup);
      return redirectOf('the authorize page', authorize, github.sessionCookie);
    },
  );
}

/**
 * Connects a Google row: Drive with the file ids the web app's Picker handed over (`files`),
 * Workspace sign-in bound to the customer's domain (`tenant`). Google's consent page redirects
 * straight to our callback.
 */
export function connectGoogle(
  api: ApiClient,
  workspaceId: string,
  row: 'google-drive' | 'google-workspace',
  controls: Record<string, string[]>,
): Promise<Connection> {
  return connectThroughBrowser(api, { workspaceId, vendor: row, controls }, (authorizeUrl) =>
    redirectOf('the Google consent page', authorizeUrl),
  );
}

/**
 * One consent at an OAuth vendor whose authorize page redirects straight back (the sandbox's Slack):
 * connect, or reconnect with a new selection of controls. Answers when the integration is connected.
 */
export function consentOAuth(api: ApiClient, request: ConsentRequest): Promise<Connection> {
  return connectThroughBrowser(api, request, (authorizeUrl) => redirectOf('the authorize page', authorizeUrl));
}

/**
 * Signs in with the sandbox's Okta org (its URL and the client id of the OIDC app registered in it,
 * as the sandbox prints them) and waits until the integration is connected.
 */
export function connectOkta(
  api: ApiClient,
  workspaceId: string,
  org: { url: string; clientId: string },
): Promise<Connection> {
  return connectThroughBrowser(
    api,
    { workspaceId, vendor: 'okta', controls: { tenant: [org.url], 'client-id': [org.clientId] } },
    (authorizeUrl) => redirectOf('the Okta sign-in', authorizeUrl),
  );
}

/**
 * Signs in over SAML with an IdP's SAML app on http (the sandbox's Okta org, set up from our SP
 * metadata): its SSO page answers the HTTP-POST binding's auto-submitting form, which the
 * browser posts to our ACS (a cross-site POST: no cookie), whose 303 leads to the callback step.
 */
export function connectSaml(
  api: ApiClient,
  workspaceId: string,
  vendor: 'okta',
  metadataUrl: string,
): Promise<Connection> {
  return connectThroughBrowser(api, { workspaceId, vendor, saml: { metadataUrl } }, async (ssoUrl) => {
    const page = await fetch(ssoUrl);
    const html = await page.text();
    const action = /<form method="POST" action="([^"]+)"/.exec(html)?.[1];
    const field = (name: string) => new RegExp(`name="${name}" value="([^"]*)"`).exec(html)?.[1];
    const [samlResponse, relayState] = [field('SAMLResponse'), field('RelayState')];
    if (page.status !== 200 || !action || !samlResponse || relayState === undefined)
      throw new StepFailed(`the IdP's sign-in page answered ${page.status} without a SAML form`);
    const unescape = (value: string) =>
      value
        .replace(/&quot;/g, '"')
        .replace(/&lt;/g, '<')
        .replace(/&gt;/g, '>')
        .replace(/&amp;/g, '&');
    const posted = await fetch(unescape(action), {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ SAMLResponse: samlResponse, RelayState: unescape(relayState) }).toString(),
    });
    const location = posted.headers.get('location');
    if (posted.status !== 303 || !location)
      throw new StepFailed(`our ACS answered ${posted.status} without the redirect: ${await posted.text()}`);
    return new URL(location, unescape(action)).toString();
  });
}
