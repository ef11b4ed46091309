/**
 * Jira Cloud emulator: Atlassian 3LO (auth.atlassian.com) and the API gateway (api.atlassian.com)
 * in one server, following the contracts our connector relies on — authorize with
 * `audience=api.atlassian.com`; JSON-only `/oauth/token` with 1 h access tokens and rotating
 * refresh tokens (reuse past a 10-min grace revokes the grant → re-consent); 4xx token errors;
 * `/oauth/token/accessible-resources`; `/ex/jira/{cloudId}/rest/api/3/…` answering 401 for expired
 * or revoked tokens and for a missing scope; `/search/jql` over a JQL subset with
 * `nextPageToken`/`isLast` paging and no `total`; issue create / get / comment with Jira's
 * response shapes; dynamic webhooks with a 30-day expiry on the emulator clock, refresh, delete and
 * listing; JWT-signed (HS256, client secret) deliveries whose `qsh` claim hashes the canonical
 * request to the registered URL; 429 storms with Retry-After and RateLimit-Reason.
 */
import crypto from 'node:crypto';
import { SignJWT } from 'jose';
import {
  EmulatorRouter,
  bearerGrant,
  bodyFields,
  clientCredentials,
  consentRedirect,
  createAppAuthority,
  createEmulatorClock,
  createRateStorm,
  postDelivery,
  redeemGrant,
  startEmulatorServer,
  tokenAnswer,
  tooManyRequests,
  type EmulatorClock,
  type EmulatorRequest,
  type EmulatorResponse,
  type LoggedRequest,
  type OAuthGrant,
} from '../shared';
import { JqlError, parseJql } from './jql';

type Json = Record<string, unknown>;

export interface JiraEmulatorOptions {
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
  /** Scopes configured on the app in the developer console: authorize refuses others. */
  appScopes: string[];
  cloudId?: string;
  siteUrl?: string;
  clock?: EmulatorClock;
}

/** Documented lifetimes: access token 1 h, refresh token 90 days idle; 10-min reuse grace. */
const ACCESS_TOKEN_TTL_MS = 60 * 60_000;
const REFRESH_TOKEN_TTL_MS = 90 * 24 * 60 * 60_000;
const REFRESH_REUSE_GRACE_MS = 10 * 60_000;
/** OAuth-app dynamic webhooks expire 30 days after registration or refresh. */
const WEBHOOK_TTL_MS = 30 * 24 * 60 * 60_000;
/** `/search/jql`: default 50, at most 100 issues per page when fields are returned. */
const DEFAULT_MAX_RESULTS = 50;
const MAX_RESULTS = 100;
/** Lifetime of the delivery JWT. */
const DELIVERY_JWT_TTL_S = 5 * 60;

export interface IssueState {
  id: string;
  key: string;
  projectKey: string;
  summary: string;
  description?: unknown;
  issueType: string;
  created: number;
  updated: number;
  comments: Json[];
}

export interface WebhookState {
  id: number;
  url: string;
  events: string[];
  jqlFilter: string;
  projects: string[];
  expirationDate: number;
  /** Which grant's subject registered it: the listing is per app and user. */
  subject: string;
}

export interface JiraEmulator {
  url: string;
  stop(): Promise<void>;
  control: JiraEmulatorControl;
}

export interface JiraEmulatorControl {
  clock: EmulatorClock;
  requests: LoggedRequest[];
  cloudId: string;
  addProject(key: string): void;
  addIssue(projectKey: string, summary: string): IssueState;
  /** Touches an issue (new `updated`), as an edit in Jira would. */
  updateIssue(key: string, summary: string): IssueState;
  /** Removes an issue and delivers `jira:issue_deleted` to every live webhook whose filter matches; returns the receivers' statuses. */
  deleteIssue(key: string): Promise<number[]>;
  issue(key: string): IssueState | undefined;
  webhooks(): WebhookState[];
  /** Extra scopes the next consent grants beyond the requested ones (a misconfigured app, for T1). */
  grantExtraScopes(scopes: string[]): void;
  /** The next `count` requests get 429 with Retry-After and RateLimit-Reason. */
  startRateLimitStorm(count: number, options: { retryAfterSeconds: number; reason: string }): void;
  /** The user removes the app under Connected apps. */
  revokeConsent(): void;
  /** Signs a delivery like Jira (JWT with the client secret unless overridden, `qsh` of the POST to `url` unless `qsh: false`) and POSTs it. */
  sendWebhook(
    url: string,
    input: {
      payload: Json;
      identifier?: string;
      secret?: string;
      issuer?: string;
      expiresInSeconds?: number;
      qsh?: false;
    },
  ): Promise<number>;
  /** The last delivery sent, as a captured request: URL, body and headers (its JWT included). */
  lastDelivery(): { url: string; body: string; headers: Record<string, string> } | undefined;
}

const SUBJECT = 'atlassian-user-1';

/**
 * Atlassian's query string hash: SHA-256 of `METHOD&path&query`, path without trailing slash,
 * query parameters sorted, percent-encoded (RFC 3986), repeated values comma-joined, `jwt` left out.
 */
function queryStringHash(method: string, url: string): string {
  const { pathname, searchParams } = new URL(url);
  const encode = (value: string) =>
    encodeURIComponent(value).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
  const keys = [...new Set(searchParams.keys())].filter((key) => key !== 'jwt').sort();
  const query = keys.map((key) => `${encode(key)}=${searchParams.getAll(key).map(encode).sort().join(',')}`).join('&');
  const path = pathname.length > 1 ? pathname.replace(/\/$/, '') : '/';
  const canonical = `${method}&${path.split('&').join('%26')}&${query}`;
  return crypto.createHash('sha256').update(canonical).digest('hex');
}

export async function startJiraEmulator(options: JiraEmulatorOptions): Promise<JiraEmulator> {
  const clock = options.clock ?? createEmulatorClock();
  const cloudId = options.cloudId ?? crypto.randomUUID();
  const siteUrl = options.siteUrl ?? 'https://acme-construction.atlassian.net';
  const authority = createAppAuthority(options, {
    clock,
    accessTokenTtlMs: ACCESS_TOKEN_TTL_MS,
    refreshTokenTtlMs: REFRESH_TOKEN_TTL_MS,
    refreshReuseGraceMs: REFRESH_REUSE_GRACE_MS,
  });
  const projects = new Map<string, { id: string; key: string; nextNumber: number }>();
  const issues = new Map<string, IssueState>();
  const webhooks = new Map<number, WebhookState>();
  /**
   * Bumped whenever an issue is added, changed or removed. A search's ordered matches are kept for
   * the next page of the same query while nothing changed, as Jira's index serves them: re-sorting
   * every issue for each page made a page cost grow with the site (1,000 pages of 100k issues).
   */
  let issuesVersion = 0;
  let lastMatches: { key: string; issues: IssueState[] } | undefined;
  let lastDelivery: ReturnType<JiraEmulatorControl['lastDelivery']>;
  const storm = createRateStorm();
  let extraScopes: string[] = [];
  let nextId = 10_000;
  let baseUrl = '';
  const now = () => clock.now();
  const apiPrefix = `/ex/jira/${cloudId}/rest/api/3`;

  const jiraTime = (ms: number) => new Date(ms).toISOString().replace('Z', '+0000');
  const errors = (status: number, ...messages: string[]): EmulatorResponse => ({
    status,
    body: { errorMessages: messages, errors: {} },
  });
  const unauthorized = (): EmulatorResponse => ({ status: 401, body: { code: 401, message: 'Unauthorized' } });

  /** Authenticates the gateway call; `scope` is the classic scope the endpoint needs. */
  function apiAuth(
    request: EmulatorRequest,
    scope: 'read:jira-work' | 'write:jira-work',
  ): OAuthGrant | EmulatorResponse {
    const grant = bearerGrant(authority, request);
    if (!grant) return unauthorized();
    // Atlassian answers a token lacking the endpoint's scope with 401 "scope does not match".
    if (!grant.scopes.includes(scope))
      return { status: 401, body: { code: 401, message: 'Unauthorized; scope does not match' } };
    return grant;
  }

  function issueJson(issue: IssueState, fields: string[] | undefined): Json {
    const all: Json = {
      summary: issue.summary,
      description: issue.description ?? null,
      status: { name: 'To Do', statusCategory: { key: 'new' } },
      issuetype: { name: issue.issueType },
      project: {
        id: projects.get(issue.projectKey)!.id,
        key: issue.projectKey,
        self: `${baseUrl}${apiPrefix}/project/${issue.projectKey}`,
      },
      priority: { name: 'Medium' },
      resolution: null,
      created: jiraTime(issue.created),
      updated: jiraTime(issue.updated),
      reporter: { accountId: SUBJECT, displayName: 'Site Engineer', emailAddress: 'engineer@example.test' },
    };
    // The enhanced search returns only `id` unless fields are asked for.
    const wanted = fields ?? [];
    const selected = wanted.includes('*all')
      ? all
      : Object.fromEntries(Object.entries(all).filter(([name]) => wanted.includes(name)));
    return {
      expand: '',
      id: issue.id,
      self: `${baseUrl}${apiPrefix}/issue/${issue.id}`,
      key: issue.key,
      fields: selected,
    };
  }

  function findIssue(idOrKey: string): IssueState | undefined {
    return issues.get(idOrKey) ?? [...issues.values()].find((issue) => issue.id === idOrKey);
  }

  function search(
    request: EmulatorRequest,
    input: { jql?: string; maxResults?: number; nextPageToken?: string; fields?: string[] },
  ): EmulatorResponse {
    const auth = apiAuth(request, 'read:jira-work');
    if (!('grantId' in auth)) return auth;
    const jql = input.jql ?? '';
    let parsed;
    try {
      parsed = parseJql(jql, now());
    } catch (error) {
      return errors(400, (error as JqlError).message);
    }
    const unknown = (parsed.projects ?? []).filter((key) => !projects.has(key));
    if (unknown.length > 0) return errors(400, `The value '${unknown[0]}' does not exist for the field 'project'.`);
    const maxResults = Math.min(MAX_RESULTS, Math.max(1, input.maxResults ?? DEFAULT_MAX_RESULTS));
    let offset = 0;
    if (input.nextPageToken) {
      const token = JSON.parse(Buffer.from(input.nextPageToken, 'base64url').toString('utf8')) as {
        offset: number;
        jql: string;
      };
      if (token.jql !== jql) return errors(400, 'The provided next page token is invalid or expired.');
      offset = token.offset;
    }
    // `updated` is compared at minute precision: queries within the same minute match the same issues.
    const updatedFromMs =
      parsed.updatedFromMs === undefined ? undefined : Math.floor(parsed.updatedFromMs / 60_000) * 60_000;
    const key = JSON.stringify([issuesVersion, parsed.projects ?? null, updatedFromMs ?? null, parsed.order]);
    if (lastMatches?.key !== key)
      lastMatches = {
        key,
        issues: [...issues.values()]
          .filter((issue) => !parsed.projects || parsed.projects.includes(issue.projectKey))
          .filter((issue) => updatedFromMs === undefined || issue.updated >= updatedFromMs)
          .sort(
            (a, b) =>
              (parsed.order === 'asc' ? a.updated - b.updated : b.updated - a.updated) || Number(a.id) - Number(b.id),
          ),
      };
    const matching = lastMatches.issues;
    const page = matching.slice(offset, offset + maxResults);
    const isLast = offset + maxResults >= matching.length;
    const nextPageToken = isLast
      ? undefined
      : Buffer.from(JSON.stringify({ offset: offset + maxResults, jql })).toString('base64url');
    return {
      status: 200,
      body: {
        issues: page.map((issue) => issueJson(issue, input.fields)),
        ...(nextPageToken ? { nextPageToken } : {}),
        isLast,
      },
    };
  }

  function liveWebhooks(subject?: string): WebhookState[] {
    return [...webhooks.values()].filter(
      (webhook) => webhook.expirationDate > now() && (subject === undefined || webhook.subject === subject),
    );
  }

  const router = new EmulatorRouter()
    .on('GET', '/authorize', (request) => {
      const requested = (request.query.get('scope') ?? '').split(' ').filter(Boolean);
      if (request.query.get('audience') !== 'api.atlassian.com')
        return { status: 400, body: 'audience must be api.atlassian.com' };
      if (request.query.get('response_type') !== 'code') return { status: 400, body: 'response_type must be code' };
      if (requested.some((scope) => !options.appScopes.includes(scope)))
        return { status: 400, body: 'invalid_scope: scope not configured for this app' };
      return consentRedirect(authority, request, {
        scopes: [...requested, ...extraScopes],
        subject: SUBJECT,
        pkce: 'ignored',
        state: 'always',
      });
    })
    .on('POST', '/oauth/token', (request) => {
      // Atlassian's token endpoint takes a JSON body.
      if (!String(request.headers['content-type'] ?? '').includes('application/json'))
        return { status: 415, body: { error: 'unsupported_media_type' } };
      const client = clientCredentials(request, { basic: false, secretInBody: true });
      const result = redeemGrant(authority, client, bodyFields(request));
      // Atlassian refuses a code or refresh token with 403, and answers the grant's scopes.
      if (!result) return { status: 400, body: { error: 'unsupported_grant_type' } };
      return tokenAnswer(result, { grantErrorStatus: 403, extra: (tokens) => ({ scope: tokens.scopes.join(' ') }) });
    })
    .on('GET', '/oauth/token/accessible-resources', (request) => {
      const grant = bearerGrant(authority, request);
      if (!grant) return unauthorized();
      const scopes = grant.scopes.filter((scope) => scope !== 'offline_access');
      return {
        status: 200,
        body: [{ id: cloudId, url: siteUrl, name: 'acme-construction', scopes, avatarUrl: `${siteUrl}/avatar.png` }],
      };
    })
    .on('POST', `${apiPrefix}/search/jql`, (request) =>
      search(
        request,
        (request.body ?? {}) as { jql?: string; maxResults?: number; nextPageToken?: string; fields?: string[] },
      ),
    )
    .on('GET', `${apiPrefix}/search/jql`, (request) =>
      search(request, {
        jql: request.query.get('jql') ?? undefined,
        maxResults: request.query.has('maxResults') ? Number(request.query.get('maxResults')) : undefined,
        nextPageToken: request.query.get('nextPageToken') ?? undefined,
        fields: request.query.get('fields')?.split(','),
      }),
    )
    .on('POST', `${apiPrefix}/issue`, (request) => {
      const auth = apiAuth(request, 'write:jira-work');
      if (!('grantId' in auth)) return auth;
      const fields =
        (
          (request.body ?? {}) as {
            fields?: {
              project?: { key?: string };
              summary?: string;
              issuetype?: { name?: string };
              description?: unknown;
            };
          }
        ).fields ?? {};
      const projectKey = fields.project?.key ?? '';
      if (!projects.has(projectKey))
        return { status: 400, body: { errorMessages: [], errors: { project: 'valid project is required' } } };
      if (!fields.summary)
        return {
          status: 400,
          body: { errorMessages: [], errors: { summary: 'You must specify a summary of the issue.' } },
        };
      const issue = control.addIssue(projectKey, fields.summary);
      issue.issueType = fields.issuetype?.name ?? 'Task';
      issue.description = fields.description;
      return { status: 201, body: { id: issue.id, key: issue.key, self: `${baseUrl}${apiPrefix}/issue/${issue.id}` } };
    })
    .on('GET', `${apiPrefix}/issue/:idOrKey`, (request) => {
      const auth = apiAuth(request, 'read:jira-work');
      if (!('grantId' in auth)) return auth;
      const issue = findIssue(request.params.idOrKey!);
      if (!issue) return errors(404, 'Issue does not exist or you do not have permission to see it.');
      return { status: 200, body: issueJson(issue, request.query.get('fields')?.split(',') ?? ['*all']) };
    })
    .on('POST', `${apiPrefix}/issue/:idOrKey/comment`, (request) => {
      const auth = apiAuth(request, 'write:jira-work');
      if (!('grantId' in auth)) return auth;
      const issue = findIssue(request.params.idOrKey!);
      if (!issue) return errors(404, 'Issue does not exist or you do not have permission to see it.');
      const body = (request.body as { body?: { type?: string } } | undefined)?.body;
      if (body?.type !== 'doc')
        return { status: 400, body: { errorMessages: [], errors: { comment: 'Comment body can not be empty!' } } };
      const id = String(nextId++);
      const comment = {
        id,
        self: `${baseUrl}${apiPrefix}/issue/${issue.id}/comment/${id}`,
        body,
        created: jiraTime(now()),
        updated: jiraTime(now()),
      };
      issue.comments.push(comment);
      issue.updated = now();
      issuesVersion += 1;
      return { status: 201, body: comment };
    })
    .on('POST', `${apiPrefix}/webhook`, (request) => {
      const auth = apiAuth(request, 'read:jira-work');
      if (!('grantId' in auth)) return auth;
      const body = (request.body ?? {}) as {
        url?: string;
        webhooks?: Array<{ events?: string[]; jqlFilter?: string }>;
      };
      if (!body.url || !body.webhooks?.length) return errors(400, 'url and webhooks are required');
      const results = body.webhooks.map((details) => {
        let parsed;
        try {
          parsed = parseJql(details.jqlFilter ?? '', now());
        } catch (error) {
          return { errors: [(error as JqlError).message] };
        }
        if (!details.events?.length) return { errors: ['events are required'] };
        const id = nextId++;
        webhooks.set(id, {
          id,
          url: body.url!,
          events: details.events,
          jqlFilter: details.jqlFilter!,
          projects: parsed.projects ?? [],
          expirationDate: now() + WEBHOOK_TTL_MS,
          subject: auth.subject,
        });
        return { createdWebhookId: id };
      });
      return { status: 200, body: { webhookRegistrationResult: results } };
    })
    .on('GET', `${apiPrefix}/webhook`, (request) => {
      const auth = apiAuth(request, 'read:jira-work');
      if (!('grantId' in auth)) return auth;
      const startAt = Number(request.query.get('startAt') ?? 0);
      const maxResults = Math.min(MAX_RESULTS, Number(request.query.get('maxResults') ?? DEFAULT_MAX_RESULTS));
      const all = liveWebhooks(auth.subject);
      const values = all
        .slice(startAt, startAt + maxResults)
        .map(({ id, jqlFilter, events, expirationDate }) => ({ id, jqlFilter, events, expirationDate }));
      return {
        status: 200,
        body: { startAt, maxResults, total: all.length, isLast: startAt + maxResults >= all.length, values },
      };
    })
    .on('PUT', `${apiPrefix}/webhook/refresh`, (request) => {
      const auth = apiAuth(request, 'read:jira-work');
      if (!('grantId' in auth)) return auth;
      const expirationDate = now() + WEBHOOK_TTL_MS;
      for (const id of ((request.body ?? {}) as { webhookIds?: number[] }).webhookIds ?? []) {
        const webhook = webhooks.get(id);
        if (webhook && webhook.subject === auth.subject && webhook.expirationDate > now())
          webhook.expirationDate = expirationDate;
      }
      return { status: 200, body: { expirationDate } };
    })
    .on('DELETE', `${apiPrefix}/webhook`, (request) => {
      const auth = apiAuth(request, 'read:jira-work');
      if (!('grantId' in auth)) return auth;
      for (const id of ((request.body ?? {}) as { webhookIds?: number[] }).webhookIds ?? []) {
        if (webhooks.get(id)?.subject === auth.subject) webhooks.delete(id);
      }
      return { status: 202 };
    });

  const control: JiraEmulatorControl = {
    clock,
    requests: [],
    cloudId,
    addProject(key) {
      projects.set(key, { id: String(nextId++), key, nextNumber: 1 });
    },
    addIssue(projectKey, summary) {
      const project = projects.get(projectKey);
      if (!project) throw new Error(`emulator has no project ${projectKey}`);
      const issue: IssueState = {
        id: String(nextId++),
        key: `${projectKey}-${project.nextNumber++}`,
        projectKey,
        summary,
        issueType: 'Task',
        created: now(),
        updated: now(),
        comments: [],
      };
      issues.set(issue.key, issue);
      issuesVersion += 1;
      return issue;
    },
    updateIssue(key, summary) {
      const issue = issues.get(key);
      if (!issue) throw new Error(`emulator has no issue ${key}`);
      Object.assign(issue, { summary, updated: now() });
      issuesVersion += 1;
      return issue;
    },
    async deleteIssue(key) {
      const issue = issues.get(key);
      if (!issue) throw new Error(`emulator has no issue ${key}`);
      issues.delete(key);
      issuesVersion += 1;
      const targets = liveWebhooks().filter(
        (webhook) => webhook.events.includes('jira:issue_deleted') && webhook.projects.includes(issue.projectKey),
      );
      return Promise.all(
        targets.map((webhook) =>
          control.sendWebhook(webhook.url, {
            payload: {
              timestamp: now(),
              webhookEvent: 'jira:issue_deleted',
              issue_event_type_name: 'issue_deleted',
              user: { accountId: SUBJECT },
              issue: issueJson(issue, ['summary', 'project', 'issuetype', 'status', 'created', 'updated']),
              matchedWebhookIds: [webhook.id],
            },
          }),
        ),
      );
    },
    issue: (key) => issues.get(key),
    webhooks: () => liveWebhooks(),
    grantExtraScopes(scopes) {
      extraScopes = scopes;
    },
    startRateLimitStorm(count, stormOptions) {
      storm.start(
        count,
        tooManyRequests(
          stormOptions.retryAfterSeconds,
          {
            'ratelimit-reason': stormOptions.reason,
            'x-ratelimit-reset': new Date(now() + stormOptions.retryAfterSeconds * 1000).toISOString(),
          },
          { errorMessages: ['Rate limit exceeded.'], errors: {} },
        ),
      );
    },
    revokeConsent() {
      authority.revokeSubject(options.clientId, SUBJECT);
    },
    async sendWebhook(url, input) {
      const issuedAt = Math.floor(now() / 1000);
      const jwt = await new SignJWT(input.qsh === false ? {} : { qsh: queryStringHash('POST', url) })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuer(input.issuer ?? options.clientId)
        .setIssuedAt(issuedAt)
        .setExpirationTime(issuedAt + (input.expiresInSeconds ?? DELIVERY_JWT_TTL_S))
        .sign(new TextEncoder().encode(input.secret ?? options.clientSecret));
      const delivery = {
        url,
        body: JSON.stringify(input.payload),
        headers: {
          authorization: `Bearer ${jwt}`,
          'x-atlassian-webhook-identifier': input.identifier ?? crypto.randomUUID(),
          'user-agent': 'Atlassian Webhook HTTP Client',
        },
      };
      lastDelivery = delivery;
      return postDelivery(delivery.url, delivery.body, delivery.headers);
    },
    lastDelivery: () => lastDelivery,
  };

  const server = await startEmulatorServer({ router, before: () => storm.intercept() });
  baseUrl = server.url;
  control.requests = server.requests;
  return { url: server.url, stop: server.stop, control };
}
