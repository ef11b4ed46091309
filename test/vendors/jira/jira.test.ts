/**
 * Jira connector (real jira.js) against the Jira emulator: connect, sync, project allow-list, data
 * out, token lifecycle, rate limits, webhooks subscriptions, revocation, audit.
 */
import { VendorError, VendorFailureType } from '../../../activities/vendors/errors';
import {
  JIRA_PROTOCOL_SCOPES,
  JIRA_REQUESTED_SCOPES,
  JIRA_SCOPES,
  jiraDescriptor,
  syncJql,
} from '../../../activities/vendors/jira';
import { expectVendorError, fullRound, harnessForFile } from '../support/connectorTests';
import { CLIENT_ID, REDIRECT_URI, startJiraHarness, type JiraHarness } from './harness';

let harness: JiraHarness;

harnessForFile(startJiraHarness, (started) => (harness = started));

const searchRequests = () =>
  harness.emulator.control.requests.filter((request) => request.path.endsWith('/rest/api/3/search/jql'));

describe('Jira connect', () => {
  test('T1 [jira]: the descriptor holds exactly the matrix data scopes; offline_access is the one protocol scope added, never a data scope', () => {
    expect(jiraDescriptor.scopes).toEqual({ required: ['read:jira-work', 'write:jira-work'], optional: [] });
    expect(JIRA_PROTOCOL_SCOPES).toEqual(['offline_access']);
    expect(JIRA_REQUESTED_SCOPES).toEqual([...jiraDescriptor.scopes.required, 'offline_access']);
  });

  test('T1 T5 [jira]: authorize URL asks exactly the descriptor scopes (+ offline_access), carries state, audience and consent, and claims no PKCE', () => {
    expect(jiraDescriptor.pkce).toBe(false);
    const url = new URL(
      harness.connector.authorizeUrl('jira', {
        state: 'state-123',
        redirectUri: REDIRECT_URI,
        scopes: jiraDescriptor.scopes.required,
        codeChallenge: 'ignored',
      }),
    );
    expect(url.searchParams.get('scope')!.split(' ')).toEqual(['read:jira-work', 'write:jira-work', 'offline_access']);
    expect(url.searchParams.get('state')).toBe('state-123');
    expect(url.searchParams.get('audience')).toBe('api.atlassian.com');
    expect(url.searchParams.get('prompt')).toBe('consent');
    expect(url.searchParams.get('client_id')).toBe(CLIENT_ID);
    expect(url.searchParams.has('code_challenge')).toBe(false);
    expect(() =>
      harness.connector.authorizeUrl('jira', { state: 's', redirectUri: REDIRECT_URI, scopes: ['read:jira-user'] }),
    ).toThrow(VendorError);
  });

  test('code exchange (JSON body) returns rotating tokens, the granted scopes and the cloud id from accessible-resources; both calls audited', async () => {
    const credential = await harness.connect();
    expect(credential.metadata?.cloudId).toBe(harness.emulator.control.cloudId);
    expect(credential.refreshToken).toBeDefined();
    // Granted with offline_access (hence the refresh token), reported as the matrix's data scopes only (T1).
    expect(credential.grantedScopes.sort()).toEqual([...JIRA_SCOPES].sort());
    const token = harness.emulator.control.requests.filter((request) => request.path === '/oauth/token').at(-1)!;
    expect(String(token.headers['content-type'])).toContain('application/json');
    expect(token.body).toMatchObject({ grant_type: 'authorization_code', redirect_uri: REDIRECT_URI });
  });

  test('T1 [jira]: a grant broader than requested is refused', async () => {
    harness.emulator.control.grantExtraScopes(['manage:jira-project']);
    try {
      const error = await expectVendorError(harness.connect(), VendorFailureType.OutsideCustomerControls);
      expect(error.message).toContain('manage:jira-project');
    } finally {
      harness.emulator.control.grantExtraScopes([]);
    }
  });
});

describe('Jira sync', () => {
  test('T11: initial round pages with nextPageToken; incremental re-reads the overlap window without duplicates and returns updated issues once', async () => {
    const { control } = harness.emulator;
    const created = Array.from({ length: 130 }, (_unused, index) => control.addIssue('SITE', `Snag ${index}`));
    control.addIssue('HR', 'Payroll complaint');
    const ctx = harness.context(await harness.connect(), { projects: ['SITE'] });

    const before = searchRequests().length;
    const initial = await fullRound(harness.connector, ctx, 'issues', null);
    expect(initial.pages).toBe(2);
    expect(new Set(initial.records.map((record) => record.externalId)).size).toBe(initial.records.length);
    expect(initial.records.map((record) => record.payload.key)).toEqual(
      expect.arrayContaining(created.map((issue) => issue.key)),
    );
    expect(
      initial.records.every((record) => (record.payload.fields as { project: { key: string } }).project.key === 'SITE'),
    ).toBe(true);
    // Data minimisation: no reporter / description personal data requested.
    expect(initial.records.every((record) => !('reporter' in (record.payload.fields as object)))).toBe(true);
    const [first, second] = searchRequests().slice(before);
    expect((first!.body as { jql: string }).jql).toBe('project in ("SITE") ORDER BY updated ASC');
    expect((second!.body as { nextPageToken?: string }).nextPageToken).toEqual(expect.any(String));

    // Nothing changed: the overlap window is re-read but nothing is returned twice.
    const unchanged = await fullRound(harness.connector, ctx, 'issues', initial.cursor);
    expect(unchanged.records).toEqual([]);
    const incrementalJql = (searchRequests().at(-1)!.body as { jql: string }).jql;
    expect(incrementalJql).toMatch(/^project in \("SITE"\) AND updated >= "-\d+m" ORDER BY updated ASC$/);

    control.clock.advance(60_000);
    const changed = control.updateIssue(created[7]!.key, 'Snag 7 (fixed)');
    const incremental = await fullRound(harness.connector, ctx, 'issues', unchanged.cursor);
    expect(incremental.records.map((record) => record.externalId)).toEqual([changed.id]);
    expect((incremental.records[0]!.payload.fields as { summary: string }).summary).toBe('Snag 7 (fixed)');
    const again = await fullRound(harness.connector, ctx, 'issues', incremental.cursor);
    expect(again.records).toEqual([]);
  });

  test('T11: the relative window covers the watermark minus the 5-minute overlap, rounded up to whole minutes', () => {
    const now = Date.UTC(2026, 0, 1, 12, 0, 30);
    expect(syncJql(['OPS', 'SITE'], now - 5 * 60_000 - 1, now)).toBe(
      'project in ("OPS", "SITE") AND updated >= "-6m" ORDER BY updated ASC',
    );
    expect(syncJql(['SITE'], undefined, now)).toBe('project in ("SITE") ORDER BY updated ASC');
  });

  test('T11: deletes are reported only by the jira:issue_deleted webhook and map to the issue id', async () => {
    const { jiraWebhookDeletions } = await import('../../../activities/vendors/jira');
    expect(
      jiraWebhookDeletions('jira:issue_deleted', {
        webhookEvent: 'jira:issue_deleted',
        issue: { id: '10123', key: 'SITE-9' },
      }),
    ).toEqual({
      deletions: [{ resource: 'issues', externalIds: ['10123'] }],
    });
    expect(jiraWebhookDeletions('jira:issue_updated', { issue: { id: '10123' } })).toEqual({ deletions: [] });
  });
});

describe('Jira project allow-list (T18)', () => {
  test('T18 [jira]: queries never leave the allow-list, the JQL is built from validated, quoted keys, and a missing or malformed allow-list is refused before any call', async () => {
    const credential = await harness.connect();
    const ctx = harness.context(credential, { projects: ['SITE', 'OPS'] });
    await fullRound(harness.connector, ctx, 'issues', null);
    expect((searchRequests().at(-1)!.body as { jql: string }).jql).toBe(
      'project in ("OPS", "SITE") ORDER BY updated ASC',
    );

    const before = harness.emulator.control.requests.length;
    for (const projects of [[], ['SITE") OR project = "HR'], ['site'], ['HR OR 1=1']]) {
      await expectVendorError(
        harness.connector.fetchPage(harness.context(credential, { projects }), { resource: 'issues', cursor: null }),
        VendorFailureType.OutsideCustomerControls,
      );
    }
    await expectVendorError(
      harness.connector.fetchPage(harness.context(credential, {}), { resource: 'issues', cursor: null }),
      VendorFailureType.OutsideCustomerControls,
    );
    expect(harness.emulator.control.requests.length).toBe(before);
  });

  test('T18 [jira]: narrowing the allow-list mid-round restarts the round with the new project clause', async () => {
    for (let index = 0; index < 120; index += 1) harness.emulator.control.addIssue('OPS', `Ops ${index}`);
    const credential = await harness.connect();
    const first = await harness.connector.fetchPage(harness.context(credential, { projects: ['OPS', 'SITE'] }), {
      resource: 'issues',
      cursor: null,
    });
    expect(first.roundComplete).toBe(false);
    const before = searchRequests().length;
    const narrowed = await fullRound(
      harness.connector,
      harness.context(credential, { projects: ['SITE'] }),
      'issues',
      first.nextCursor,
    );
    expect(
      narrowed.records.every(
        (record) => (record.payload.fields as { project: { key: string } }).project.key === 'SITE',
      ),
    ).toBe(true);
    // The OPS+SITE page token is dropped: the narrowed round starts again from its first page.
    expect(searchRequests().slice(before)[0]!.body).toMatchObject({ jql: 'project in ("SITE") ORDER BY updated ASC' });
    expect((searchRequests().slice(before)[0]!.body as { nextPageToken?: string }).nextPageToken).toBeUndefined();
  });

  test('T18 [jira]: the webhook jqlFilter is the allow-list; T21 subscriptions expire after 30 days and refresh extends them', async () => {
    const ctx = harness.context(await harness.connect(), { projects: ['SITE', 'OPS'] });
    const [subscription] = await harness.connector.registerWebhooks(ctx, {
      callbackUrl: 'https://api.example.test/webhooks/jira/endpoint-1',
      clientState: 'unused',
    });
    const registered = harness.emulator.control
      .webhooks()
      .find((webhook) => String(webhook.id) === subscription!.externalId)!;
    expect(registered.jqlFilter).toBe('project in ("OPS", "SITE")');
    // T21: the URL carries the endpoint's token (derived from its secret, never the secret itself).
    expect(registered.url).toMatch(/^https:\/\/api\.example\.test\/webhooks\/jira\/endpoint-1\?token=[0-9a-f]{64}$/);
    expect(registered.url).not.toContain('unused');
    expect(registered.events).toEqual(['jira:issue_created', 'jira:issue_updated', 'jira:issue_deleted']);
    const thirtyDays = 30 * 24 * 60 * 60_000;
    expect(subscription!.expiresAt).toBe(registered.expirationDate);
    expect(subscription!.expiresAt! - harness.emulator.control.clock.now()).toBeGreaterThan(thirtyDays - 60_000);

    harness.emulator.control.clock.advance(20 * 24 * 60 * 60_000);
    try {
      // Access tokens live 1 h: renewal runs with a refreshed credential, as the renewal workflow does.
      const fresh = harness.context(await harness.connector.refresh(ctx), { projects: ['SITE', 'OPS'] });
      const renewed = await harness.connector.renewSubscription(fresh, subscription!);
      expect(renewed.expiresAt! - subscription!.expiresAt!).toBeGreaterThanOrEqual(20 * 24 * 60 * 60_000);
      await harness.connector.deleteSubscription(fresh, renewed);
      expect(
        harness.emulator.control.webhooks().some((webhook) => String(webhook.id) === subscription!.externalId),
      ).toBe(false);
      expect(fresh.auditEntries.map((entry) => [entry.action, entry.outcome])).toEqual([
        ['webhooks.refresh', 'success'],
        ['webhooks.delete', 'success'],
      ]);
    } finally {
      harness.emulator.control.clock.advance(-20 * 24 * 60 * 60_000);
    }
  });
});

describe('Jira data out (T19)', () => {
  test('T10 T19 [jira]: creates an issue and a comment inside the allow-list, with Jira’s id/key/self shapes; both audited with write:jira-work', async () => {
    const ctx = harness.context(await harness.connect(), { projects: ['SITE'] });
    const issue = await harness.connector.perform(ctx, 'create-issue', {
      projectKey: 'SITE',
      summary: 'RFI 12 overdue',
      description: 'See TrackProject',
    });
    expect(issue).toEqual({
      externalId: expect.any(String),
      key: expect.stringMatching(/^SITE-\d+$/),
      url: expect.stringContaining(`/rest/api/3/issue/${String(issue.externalId)}`),
    });
    const comment = await harness.connector.perform(ctx, 'create-comment', { issueKey: issue.key, body: 'Answered' });
    expect(harness.emulator.control.issue(String(issue.key))!.comments.map((item) => item.id)).toEqual([
      comment.externalId,
    ]);
    expect(ctx.auditEntries.map((entry) => [entry.action, entry.scope, entry.outcome])).toEqual([
      ['create-issue', 'write:jira-work', 'success'],
      ['create-comment', 'write:jira-work', 'success'],
    ]);
  });

  test('T10 T18 T19 [jira]: writes outside the allow-list or outside the matrix data out are refused before any call, and audited', async () => {
    const ctx = harness.context(await harness.connect(), { projects: ['SITE'] });
    const hrIssue = harness.emulator.control.addIssue('HR', 'Confidential');
    const before = harness.emulator.control.requests.length;
    await expectVendorError(
      harness.connector.perform(ctx, 'create-issue', { projectKey: 'HR', summary: 'x' }),
      VendorFailureType.OutsideCustomerControls,
    );
    await expectVendorError(
      harness.connector.perform(ctx, 'create-comment', { issueKey: hrIssue.key, body: 'x' }),
      VendorFailureType.OutsideCustomerControls,
    );
    await expectVendorError(
      harness.connector.perform(ctx, 'delete-issue', { issueKey: 'SITE-1' }),
      VendorFailureType.OutsideCustomerControls,
    );
    await expectVendorError(
      harness.connector.perform(ctx, 'create-comment', { issueKey: 'SITE-1") OR x', body: 'x' }),
      VendorFailureType.VendorRejected,
    );
    expect(harness.emulator.control.requests.length).toBe(before);
    expect(harness.emulator.control.issue(hrIssue.key)!.comments).toEqual([]);
    expect(ctx.auditEntries.map((entry) => [entry.outcome, entry.errorClass])).toEqual([
      ['failure', 'OutsideCustomerControls'],
      ['failure', 'OutsideCustomerControls'],
      ['failure', 'OutsideCustomerControls'],
      ['failure', 'VendorRejected'],
    ]);
  });
});

describe('Jira token lifecycle and limits', () => {
  test('refresh rotates the refresh token; reusing the old one within 10 min is tolerated, after it the grant dies → ReauthorizationRequired', async () => {
    const credential = await harness.connect();
    const ctx = harness.context(credential);
    const rotated = await harness.connector.refresh(ctx);
    expect(rotated.refreshToken).not.toBe(credential.refreshToken);
    expect(rotated.metadata).toEqual(credential.metadata);
    const refreshBody = harness.emulator.control.requests
      .filter((request) => request.path === '/oauth/token')
      .at(-1)!.body;
    expect(refreshBody).toMatchObject({ grant_type: 'refresh_token', client_id: CLIENT_ID });
    // Within Atlassian's 10-minute grace (concurrent refreshes): tolerated.
    await harness.connector.refresh(ctx);
    harness.emulator.control.clock.advance(11 * 60_000);
    try {
      await expectVendorError(harness.connector.refresh(ctx), VendorFailureType.ReauthorizationRequired);
      // Reuse outside the grace killed the whole grant: the newest tokens are dead too → re-consent.
      await expectVendorError(
        harness.connector.refresh(harness.context(rotated)),
        VendorFailureType.ReauthorizationRequired,
      );
      await expectVendorError(
        harness.connector.testConnection(harness.context(rotated)),
        VendorFailureType.ReauthorizationRequired,
      );
    } finally {
      harness.emulator.control.clock.advance(-11 * 60_000);
    }
  });

  test('an expired access token (1 h) gets 401 → ReauthorizationRequired', async () => {
    const ctx = harness.context(await harness.connect());
    await harness.connector.testConnection(ctx);
    harness.emulator.control.clock.advance(61 * 60_000);
    try {
      await expectVendorError(harness.connector.testConnection(ctx), VendorFailureType.ReauthorizationRequired);
    } finally {
      harness.emulator.control.clock.advance(-61 * 60_000);
    }
  });

  test('T10: a 429 storm surfaces as RateLimited with retryAfterMs from Retry-After and the RateLimit-Reason, audited as such', async () => {
    const ctx = harness.context(await harness.connect());
    harness.emulator.control.startRateLimitStorm(1, { retryAfterSeconds: 17, reason: 'jira-burst-based' });
    const error = await expectVendorError(
      harness.connector.fetchPage(ctx, { resource: 'issues', cursor: null }),
      VendorFailureType.RateLimited,
    );
    expect(error.details.retryAfterMs).toBe(17_000);
    expect(error.message).toContain('jira-burst-based');
    expect(ctx.auditEntries.at(-1)).toMatchObject({
      action: 'issues.search',
      scope: 'read:jira-work',
      outcome: 'failure',
      errorClass: 'RateLimited',
    });
    // The site's budget is blocked until Retry-After passes: refused before reaching Jira.
    const refused = await expectVendorError(harness.connector.testConnection(ctx), VendorFailureType.RateLimited);
    expect(refused.details.status).toBeUndefined();
    harness.budgets.reset();
    await harness.connector.testConnection(ctx);
  });

  test('an unknown project in the allow-list is a VendorRejected (Jira 400), not retried', async () => {
    const ctx = harness.context(await harness.connect(), { projects: ['GONE'] });
    await expectVendorError(harness.connector.testConnection(ctx), VendorFailureType.VendorRejected);
  });

  test('T4 [jira]: revoke says what it cannot do (no Atlassian revoke endpoint) and makes no call; after the user removes the app, calls get 401', async () => {
    const ctx = harness.context(await harness.connect());
    const before = harness.emulator.control.requests.length;
    await expect(harness.connector.revoke(ctx)).resolves.toEqual({
      revoked: false,
      note: jiraDescriptor.revocation.note,
    });
    expect(harness.emulator.control.requests.length).toBe(before);
    expect(jiraDescriptor.revocation.note).toMatch(/Connected apps/);
    harness.emulator.control.revokeConsent();
    await expectVendorError(harness.connector.testConnection(ctx), VendorFailureType.ReauthorizationRequired);
    await expectVendorError(harness.connector.refresh(ctx), VendorFailureType.ReauthorizationRequired);
  });
});
