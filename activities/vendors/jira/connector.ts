/**
 * Jira Cloud connector (Atlassian 3LO + jira.js). Credential model: `accessToken` (1 h) and the
 * rotating `refreshToken`, `metadata.cloudId` the one Jira site of the grant.
 * T18: scopes are site-wide, so `controls.projects` (the admin's allow-list) is mandatory and
 * enforced by us on every query (JQL), on the webhook `jqlFilter` and on writes, which are refused
 * before any call when they would leave it.
 */
import type { Version3Client } from 'jira.js';
import { scopesOutside } from '../../../lib/scopes';
import { VendorError, VendorFailureType } from '../errors';
import {
  EMPTY_WATERMARK,
  OAuth2Client,
  advanceWatermark,
  assertGrantWithinRequested,
  createVendorCall,
  isFresh,
  queryStartMs,
  type OAuthAppConnectorOptions,
  type UpdatedWatermark,
} from '../shared';
import type { Connector, ConnectorContext, SourceRecord, Subscription, SyncPage, TokenSet } from '../types';
import { optionalString, requireString } from '../shared/actionInput';
import { createJiraClient, listAccessibleResources } from './client';
import { JIRA_PROTOCOL_SCOPES, JIRA_REQUESTED_SCOPES, JIRA_SCOPES, jiraDescriptor } from './descriptor';
import { mapJiraError } from './errors';
import { allowedProjects, assertProjectAllowed, projectInClause, projectOfIssueKey, syncJql } from './jql';
import { jiraCallbackUrl } from './webhooks';

/** `now` is the clock of the relative JQL window. */
export interface JiraConnectorOptions extends OAuthAppConnectorOptions {
  /** Authorization server (https://auth.atlassian.com). */
  authBaseUrl: string;
  /** API gateway (https://api.atlassian.com): accessible-resources and `/ex/jira/{cloudId}`. */
  apiBaseUrl: string;
}

const VENDOR = 'jira';
const SCOPE_READ = 'read:jira-work';
const SCOPE_WRITE = 'write:jira-work';
/** Jira's page-size cap for issue searches returning fields. */
const PAGE_SIZE = 100;
/**
 * `updated` is minute-precision and the search index lags writes briefly: each round re-reads the
 * last 5 minutes, and the watermark drops what it already returned.
 */
const SINCE_OVERLAP_MS = 5 * 60_000;
/** Only the fields a linked ticket needs (T14): no description, reporter or assignee personal data. */
const ISSUE_FIELDS = ['summary', 'status', 'issuetype', 'project', 'priority', 'resolution', 'created', 'updated'];
/** Events of the dynamic webhook: changes trigger an incremental sync, deletes are only reported here. */
const WEBHOOK_EVENTS = ['jira:issue_created', 'jira:issue_updated', 'jira:issue_deleted'];
const DEFAULT_ISSUE_TYPE = 'Task';

type Json = Record<string, unknown>;

/** Sync round state: the JQL is fixed for a round (nextPageToken is bound to it). */
interface IssuesCursor {
  watermark: UpdatedWatermark;
  round?: { projects: string[]; jql: string; nextPageToken?: string; seen: Array<{ id: string; updatedMs: number }> };
}

/** Jira timestamps look like `2024-01-01T10:00:00.000+0000`: the offset gets its colon for Date.parse. */
export function parseJiraTimestamp(value: string): number {
  return Date.parse(value.replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
}

export function createJiraConnector(options: JiraConnectorOptions): Connector {
  const now = options.now ?? Date.now;
  const call = createVendorCall({
    family: VENDOR,
    appId: options.clientId,
    rateLimit: jiraDescriptor.rateLimit,
    budgets: options.budgets,
    mapError: mapJiraError,
  });
  const oauth = new OAuth2Client({
    vendor: VENDOR,
    authorizeUrl: `${options.authBaseUrl}/authorize`,
    tokenUrl: `${options.authBaseUrl}/oauth/token`,
    clientId: options.clientId,
    clientSecret: options.clientSecret,
    tokenRequestEncoding: 'json',
    extraAuthorizeParams: { audience: 'api.atlassian.com', prompt: 'consent' },
  });

  function client(ctx: ConnectorContext): Version3Client {
    const cloudId = ctx.credential.metadata?.cloudId;
    if (!cloudId)
      throw new VendorError(VendorFailureType.ReauthorizationRequired, VENDOR, 'credential has no cloud id');
    return createJiraClient(options.apiBaseUrl, cloudId, ctx.credential.accessToken);
  }

  /** T1: a grant carrying anything beyond the data + protocol scopes we asked for is refused. */
  /**
   * Refuses a grant beyond data + protocol scopes, then reports the data scopes only: the
   * integration records (and the generic T1 check compares) the matrix's scopes, and
   * `offline_access` is plumbing, not access.
   */
  function checkedGrant(tokens: TokenSet): TokenSet {
    assertGrantWithinRequested(VENDOR, JIRA_REQUESTED_SCOPES, tokens.grantedScopes);
    return {
      ...tokens,
      grantedScopes: tokens.grantedScopes.filter(
        (scope) => !(JIRA_PROTOCOL_SCOPES as readonly string[]).includes(scope),
      ),
    };
  }

  async function fetchIssues(ctx: ConnectorContext, cursorText: string | null): Promise<SyncPage> {
    const cursor: IssuesCursor = cursorText ? (JSON.parse(cursorText) as IssuesCursor) : { watermark: EMPTY_WATERMARK };
    const projects = allowedProjects(ctx.controls);
    // A changed allow-list restarts the round with the new project clause.
    if (!cursor.round || cursor.round.projects.join(',') !== projects.join(',')) {
      cursor.round = {
        projects,
        jql: syncJql(projects, queryStartMs(cursor.watermark, SINCE_OVERLAP_MS), now()),
        seen: [],
      };
    }
    const round = cursor.round;
    const result = (await client(ctx).issueSearch.searchForIssuesUsingJqlEnhancedSearchPost({
      jql: round.jql,
      fields: ISSUE_FIELDS,
      maxResults: PAGE_SIZE,
      nextPageToken: round.nextPageToken,
    })) as { issues?: Json[]; nextPageToken?: string; isLast?: boolean };
    const issues = result.issues ?? [];
    const seen = issues.map((issue) => ({
      id: String(issue.id),
      updatedMs: parseJiraTimestamp(String((issue.fields as Json).updated)),
    }));
    const records: SourceRecord[] = issues
      .filter((_issue, index) => isFresh(cursor.watermark, seen[index]!.id, seen[index]!.updatedMs))
      .map((issue) => ({
        resource: 'issues',
        externalId: String(issue.id),
        version: String((issue.fields as Json).updated),
        payload: issue,
      }));
    // Ascending by `updated`: only the tail within the overlap window can matter to the watermark.
    const pending = [...round.seen, ...seen];
    const newest = Math.max(...pending.map((item) => item.updatedMs));
    round.seen = pending.filter((item) => item.updatedMs >= newest - SINCE_OVERLAP_MS);
    const roundComplete = result.isLast !== false || !result.nextPageToken;
    if (roundComplete) {
      // The watermark moves only when the round ends, so a failed round re-reads.
      const next: IssuesCursor = { watermark: advanceWatermark(cursor.watermark, round.seen, SINCE_OVERLAP_MS) };
      return { records, deletedExternalIds: [], nextCursor: JSON.stringify(next), roundComplete: true };
    }
    round.nextPageToken = result.nextPageToken;
    return { records, deletedExternalIds: [], nextCursor: JSON.stringify(cursor), roundComplete: false };
  }

  async function expirationOf(ctx: ConnectorContext, webhookId: number): Promise<number | undefined> {
    for (let startAt = 0; ;) {
      const page = await client(ctx).webhooks.getDynamicWebhooksForApp({ startAt, maxResults: PAGE_SIZE });
      const found = (page.values ?? []).find((webhook) => webhook.id === webhookId);
      if (found) return found.expirationDate;
      if (page.isLast !== false || !page.values?.length) return undefined;
      startAt += page.values.length;
    }
  }

  return {
    vendors: ['jira'],

    // The caller passes the integration's data scopes; the protocol scope for refresh is added here.
    // No PKCE: Atlassian 3LO documents none, so state + the exact redirect URI carry the flow.
    authorizeUrl(_vendor, request) {
      const beyond = scopesOutside(request.scopes, JIRA_SCOPES).map(({ scope }) => scope);
      if (beyond.length > 0)
        throw new VendorError(
          VendorFailureType.OutsideCustomerControls,
          VENDOR,
          `scopes beyond the matrix row requested (${beyond.join(', ')})`,
        );
      return oauth.authorizeUrl({
        state: request.state,
        redirectUri: request.redirectUri,
        scopes: [...request.scopes, ...JIRA_PROTOCOL_SCOPES],
      });
    },

    async exchangeCode(_vendor, input) {
      const audited = { audit: input.audit };
      const tokens = await call(
        audited,
        { action: 'oauth.exchange-code', scope: JIRA_REQUESTED_SCOPES.join(' ') },
        async () =>
          checkedGrant(
            await oauth.exchangeCode({
              code: input.code,
              redirectUri: input.redirectUri,
              requestedScopes: JIRA_REQUESTED_SCOPES,
            }),
          ),
      );
      const sites = await call(audited, { action: 'oauth.accessible-resources', scope: SCOPE_READ }, async () =>
        (await listAccessibleResources(options.apiBaseUrl, tokens.accessToken)).filter((site) =>
          JIRA_SCOPES.every((scope) => site.scopes.includes(scope)),
        ),
      );
      // One consent covers one site; with several reachable sites the admin must pick (not guessed).
      if (sites.length !== 1)
        throw new VendorError(
          VendorFailureType.VendorRejected,
          VENDOR,
          `expected exactly one Jira site for this grant, found ${sites.length}`,
        );
      return { ...tokens, metadata: { cloudId: sites[0]!.id, siteUrl: sites[0]!.url } };
    },

    // T17: Atlassian's refresh grant takes no scope (a 3LO token keeps the scopes of its consent), so
    // it cannot narrow: after a restriction the audited path refuses calls outside the consented scopes.
    async refresh(ctx) {
      const refreshToken = ctx.credential.refreshToken;
      return call(ctx, { action: 'oauth.refresh', scope: JIRA_PROTOCOL_SCOPES.join(' ') }, async () => {
        if (!refreshToken)
          throw new VendorError(VendorFailureType.ReauthorizationRequired, VENDOR, 'credential has no refresh token');
        const tokens = checkedGrant(await oauth.refresh(refreshToken, ctx.credential.grantedScopes));
        return { ...tokens, metadata: ctx.credential.metadata };
      });
    },

    async testConnection(ctx) {
      await call(ctx, { action: 'issues.search', scope: SCOPE_READ }, () =>
        client(ctx).issueSearch.searchForIssuesUsingJqlEnhancedSearchPost({
          jql: projectInClause(allowedProjects(ctx.controls)),
          fields: ['id'],
          maxResults: 1,
        }),
      );
    },

    // Atlassian has no revocation endpoint: our tokens are destroyed and webhooks deleted by the
    // teardown; the user removes the app under Connected apps.
    revoke: async () => ({ revoked: false, note: jiraDescriptor.revocation.note }),

    // Deliveries are authenticated by a JWT signed with the app's client secret, the same for every
    // customer: the callback URL carries a token derived from the endpoint's `clientState`, and the
    // JWT's `qsh` covers that URL, which binds each delivery to its endpoint (webhooks.ts).
    async registerWebhooks(ctx, input) {
      return call(ctx, { action: 'webhooks.register', scope: SCOPE_READ }, async () => {
        const jqlFilter = projectInClause(allowedProjects(ctx.controls));
        const registered = await client(ctx).webhooks.registerDynamicWebhooks({
          url: jiraCallbackUrl(input.callbackUrl, input.clientState),
          webhooks: [{ events: WEBHOOK_EVENTS, jqlFilter }],
        });
        const id = registered.webhookRegistrationResult?.[0]?.createdWebhookId;
        if (id === undefined)
          throw new VendorError(VendorFailureType.VendorRejected, VENDOR, 'webhook registration refused');
        return [{ externalId: String(id), resource: 'issues', expiresAt: await expirationOf(ctx, id) }];
      });
    },

    async renewSubscription(ctx, subscription) {
      return call(ctx, { action: 'webhooks.refresh', scope: SCOPE_READ }, async () => {
        const { expirationDate } = await client(ctx).webhooks.refreshWebhooks({
          webhookIds: [Number(subscription.externalId)],
        });
        return { ...subscription, expiresAt: expirationDate } satisfies Subscription;
      });
    },

    async deleteSubscription(ctx, subscription) {
      await call(ctx, { action: 'webhooks.delete', scope: SCOPE_READ }, () =>
        client(ctx).webhooks.deleteWebhookById({ webhookIds: [Number(subscription.externalId)] }),
      );
    },

    async fetchPage(ctx, input) {
      return call(ctx, { action: 'issues.search', scope: SCOPE_READ }, async () => {
        if (input.resource !== 'issues')
          throw new VendorError(
            VendorFailureType.OutsideCustomerControls,
            VENDOR,
            `resource ${input.resource} is not in the matrix's data in`,
          );
        return fetchIssues(ctx, input.cursor);
      });
    },

    async perform(ctx, action, input) {
      return call(ctx, { action, scope: SCOPE_WRITE }, async () => {
        if (!jiraDescriptor.dataOut.includes(action))
          throw new VendorError(
            VendorFailureType.OutsideCustomerControls,
            VENDOR,
            `action ${action} is not in the matrix's data out`,
          );
        const jira = client(ctx);
        if (action === 'create-issue') {
          const projectKey = requireString(VENDOR, input, 'projectKey');
          assertProjectAllowed(ctx.controls, projectKey);
          const description = optionalString(VENDOR, input, 'description');
          const created = await jira.issues.createIssue({
            fields: {
              project: { key: projectKey },
              summary: requireString(VENDOR, input, 'summary'),
              issuetype: { name: optionalString(VENDOR, input, 'issueType') ?? DEFAULT_ISSUE_TYPE },
              ...(description ? { description } : {}),
            },
          });
          return { externalId: created.id, key: created.key, url: created.self };
        }
        const issueKey = requireString(VENDOR, input, 'issueKey');
        assertProjectAllowed(ctx.controls, projectOfIssueKey(issueKey));
        // A moved issue keeps answering to its old key: its current project decides, read before writing.
        const issue = await jira.issues.getIssue({ issueIdOrKey: issueKey, fields: ['project'] });
        assertProjectAllowed(ctx.controls, String((issue.fields.project as { key?: string } | undefined)?.key));
        const comment = await jira.issueComments.addComment({
          issueIdOrKey: issue.id,
          comment: requireString(VENDOR, input, 'body'),
        });
        return { externalId: String(comment.id), issueId: issue.id, url: comment.self };
      });
    },
  } satisfies Connector;
}
