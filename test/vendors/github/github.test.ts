/**
 * GitHub connector (real Octokit) against the GitHub emulator: connect, sync, data out, refresh,
 * rate limits, revocation, audit.
 */
import { VendorError, VendorFailureType } from '../../../activities/vendors/errors';
import { githubDescriptor, githubRequestedPermissions } from '../../../activities/vendors/github';
import { createPkcePair } from '../../../lib/oauth/pkce';
import { expectVendorError, fullRound, harnessForFile } from '../support/connectorTests';
import { REDIRECT_URI, startGithubHarness, type GithubHarness } from './harness';

let harness: GithubHarness;

harnessForFile(startGithubHarness, (started) => (harness = started));

describe('GitHub connect', () => {
  test('T5 [github]: authorize URL carries an S256 challenge and no scope widening; T1: installation token asks exactly the descriptor permissions', async () => {
    const pkce = createPkcePair();
    const url = new URL(
      harness.connector.authorizeUrl('github', {
        state: 's',
        redirectUri: REDIRECT_URI,
        scopes: [],
        codeChallenge: pkce.challenge,
      }),
    );
    expect(url.searchParams.get('code_challenge')).toBe(pkce.challenge);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.has('scope')).toBe(false);

    const credential = await harness.connect();
    expect(credential.metadata?.installationId).toBe(String(harness.installationId));
    expect(credential.accessToken).toMatch(/^ghs_/);
    expect(credential.refreshToken).toMatch(/^ghr_/);
    expect(credential.grantedScopes).toEqual([...githubDescriptor.scopes.required]);
    const tokenRequest = harness.emulator.control.requests.find(
      (request) => request.path === `/app/installations/${harness.installationId}/access_tokens`,
    );
    // The installation holds pull_requests:write too; we never ask for it.
    expect((tokenRequest?.body as { permissions: unknown }).permissions).toEqual(githubRequestedPermissions());
    expect(githubRequestedPermissions()).toEqual({
      metadata: 'read',
      contents: 'read',
      issues: 'write',
      statuses: 'write',
    });
  });

  test('T5 [github]: a code exchanged with the wrong PKCE verifier is rejected by the emulator', async () => {
    const pkce = createPkcePair();
    const url = harness.connector.authorizeUrl('github', {
      state: 's',
      redirectUri: REDIRECT_URI,
      scopes: [],
      codeChallenge: pkce.challenge,
    });
    const code = new URL((await fetch(url, { redirect: 'manual' })).headers.get('location')!).searchParams.get('code')!;
    const { audit } = (await import('../support/recordingAudit')).recordingAuditor({
      workspaceId: 'w',
      vendor: 'github',
    });
    await expectVendorError(
      harness.connector.exchangeCode('github', {
        code,
        redirectUri: REDIRECT_URI,
        codeVerifier: createPkcePair().verifier,
        audit,
        installation: { installationId: String(harness.installationId), controls: {} },
      }),
      VendorFailureType.ReauthorizationRequired,
    );
  });
});

describe('GitHub sync', () => {
  test('T11: initial sync pages issues across Link pages, skips pull requests; incremental uses since and ETag 304', async () => {
    const { control } = harness.emulator;
    for (let index = 0; index < 120; index += 1) control.addIssue('acme/site-a', { title: `Issue ${index}` });
    control.addIssue('acme/site-a', { title: 'A pull request', pullRequest: true });
    control.addIssue('acme/site-b', { title: 'B issue' });
    const ctx = harness.context(await harness.connect());

    const initial = await fullRound(harness.connector, ctx, 'issues', null);
    expect(initial.records).toHaveLength(121);
    expect(initial.pages).toBe(3);
    expect(initial.records.every((record) => record.payload.pull_request === undefined)).toBe(true);

    // Nothing changed: site-b (single page) answers 304; site-a re-reads but returns nothing new.
    const requestsBefore = control.requests.length;
    const unchanged = await fullRound(harness.connector, ctx, 'issues', initial.cursor);
    expect(unchanged.records).toHaveLength(0);
    const roundRequests = control.requests.slice(requestsBefore);
    expect(
      roundRequests.some((request) => request.path === '/repos/acme/site-b/issues' && request.status === 304),
    ).toBe(true);
    expect(
      roundRequests.every((request) => request.query.since === undefined || request.path.endsWith('/issues')),
    ).toBe(true);

    control.clock.advance(60_000);
    const [changed] = [control.updateIssue('acme/site-a', 5, { state: 'closed' })];
    const incremental = await fullRound(harness.connector, ctx, 'issues', unchanged.cursor);
    expect(incremental.records.map((record) => record.externalId)).toEqual([String(changed!.id)]);
    const sinceQueries = control.requests
      .slice(requestsBefore)
      .filter((request) => request.path === '/repos/acme/site-a/issues');
    expect(sinceQueries.every((request) => typeof request.query.since === 'string')).toBe(true);
  });

  test('T11: a 304 does not spend rate limit', async () => {
    const ctx = harness.context(await harness.connect(), { repos: ['acme/site-b'] });
    const first = await fullRound(harness.connector, ctx, 'issues', null);
    await fullRound(harness.connector, ctx, 'issues', first.cursor);
    await harness.connector.testConnection(ctx);
    const mine = harness.emulator.control.requests.filter(
      (request) => request.headers.authorization === `token ${ctx.credential.accessToken}`,
    );
    const remaining = mine.map((request) => [request.status, Number(request.responseHeaders['x-ratelimit-remaining'])]);
    // 200 spends one, 304 spends none, the next 200 spends one (of the installation's limit, which earlier tests spent from).
    const start = remaining[0]![1]!;
    expect(remaining).toEqual([
      [200, start],
      [304, start],
      [200, start - 1],
    ]);
  });

  test('T11: deletes arrive only by webhook and are read from the published payload shapes', async () => {
    const { githubWebhookDeletions } = await import('../../../activities/vendors/github');
    const { webhookExample } = await import('../../../emulators/github');
    const deletedIssue = webhookExample('issues', 'deleted');
    expect(githubWebhookDeletions('issues', deletedIssue)).toEqual({
      deletions: [{ resource: 'issues', externalIds: [String((deletedIssue.issue as { id: number }).id)] }],
      installationDeleted: false,
    });
    const uninstalled = webhookExample('installation', 'deleted');
    expect(githubWebhookDeletions('installation', uninstalled).installationDeleted).toBe(true);
    const removed = webhookExample('installation_repositories', 'removed');
    const removedIds = (removed.repositories_removed as Array<{ id: number }>).map((repo) => String(repo.id));
    expect(githubWebhookDeletions('installation_repositories', removed).deletions).toEqual([
      { resource: 'repositories', externalIds: removedIds },
    ]);
    expect(removedIds.length).toBeGreaterThan(0);
    expect(githubWebhookDeletions('issues', webhookExample('issues', 'opened')).deletions).toEqual([]);
  });

  test('T18 [github]: sync walks only the installation’s repositories narrowed by controls; releases and repositories too', async () => {
    harness.emulator.control.addRelease('acme/site-b', 'v1.0.0');
    harness.emulator.control.addRelease('acme/private-hr', 'v9.9.9');
    const ctx = harness.context(await harness.connect(), { repos: ['acme/site-b'] });
    const releases = await fullRound(harness.connector, ctx, 'releases', null);
    expect(releases.records.map((record) => record.payload.tag_name)).toEqual(['v1.0.0']);
    const repositories = await fullRound(harness.connector, ctx, 'repositories', null);
    expect(repositories.records.map((record) => record.payload.full_name)).toEqual(['acme/site-b']);
    expect(harness.emulator.control.requests.some((request) => request.path.startsWith('/repos/acme/private-hr'))).toBe(
      false,
    );
  });
});

describe('GitHub data out', () => {
  test('T19 [github]: creates an issue, a comment and a status check inside the controlled repository', async () => {
    const ctx = harness.context(await harness.connect(), { repos: ['acme/site-b'] });
    const issue = await harness.connector.perform(ctx, 'create-issue', {
      repository: 'acme/site-b',
      title: 'RFI 12 overdue',
      body: 'See TrackProject',
    });
    const comment = await harness.connector.perform(ctx, 'create-comment', {
      repository: 'acme/site-b',
      issueNumber: issue.number,
      body: 'Answered',
    });
    const status = await harness.connector.perform(ctx, 'create-status-check', {
      repository: 'acme/site-b',
      sha: 'a'.repeat(40),
      state: 'success',
      context: 'trackproject/approval',
    });
    expect(harness.emulator.control.issues('acme/site-b').some((item) => item.title === 'RFI 12 overdue')).toBe(true);
    expect(harness.emulator.control.comments('acme/site-b').map((item) => item.id)).toContain(
      Number(comment.externalId),
    );
    expect(harness.emulator.control.statuses('acme/site-b').map((item) => item.id)).toContain(
      Number(status.externalId),
    );
    expect(ctx.auditEntries.map((entry) => [entry.action, entry.scope, entry.outcome])).toEqual([
      ['create-issue', 'issues:write', 'success'],
      ['create-comment', 'issues:write', 'success'],
      ['create-status-check', 'issues:write', 'success'],
    ]);
  });

  test('T18/T19 [github]: writes outside the controlled repositories or outside data out are refused before any call, and audited', async () => {
    const ctx = harness.context(await harness.connect(), { repos: ['acme/site-b'] });
    const before = harness.emulator.control.requests.length;
    await expectVendorError(
      harness.connector.perform(ctx, 'create-issue', { repository: 'acme/site-a', title: 'x' }),
      VendorFailureType.OutsideCustomerControls,
    );
    await expectVendorError(
      harness.connector.perform(ctx, 'delete-repository', { repository: 'acme/site-b' }),
      VendorFailureType.OutsideCustomerControls,
    );
    expect(harness.emulator.control.requests.length).toBe(before);
    expect(ctx.auditEntries.map((entry) => [entry.outcome, entry.errorClass])).toEqual([
      ['failure', 'OutsideCustomerControls'],
      ['failure', 'OutsideCustomerControls'],
    ]);
  });
});

describe('GitHub rate limits', () => {
  test('a 429 storm surfaces as RateLimited with retryAfterMs from Retry-After, and the call is audited as such', async () => {
    const ctx = harness.context(await harness.connect());
    harness.emulator.control.startRateLimitStorm(1, { status: 429, retryAfterSeconds: 42 });
    const error = await expectVendorError(harness.connector.testConnection(ctx), VendorFailureType.RateLimited);
    expect(error.details.retryAfterMs).toBe(42_000);
    expect(ctx.auditEntries.at(-1)).toMatchObject({
      action: 'installation.list-repos',
      outcome: 'failure',
      errorClass: 'RateLimited',
    });
    // The installation's budget is blocked until Retry-After passes: refused here, GitHub not called.
    const before = harness.emulator.control.rateLimitUse(harness.installationId).counted;
    const refused = await expectVendorError(harness.connector.testConnection(ctx), VendorFailureType.RateLimited);
    expect(refused.details).toEqual({ source: 'budget', retryAfterMs: expect.any(Number) });
    expect(refused.details.retryAfterMs).toBeGreaterThan(40_000);
    expect(harness.emulator.control.rateLimitUse(harness.installationId).counted).toBe(before);
    harness.budgets.reset();
    await harness.connector.testConnection(ctx);
  });

  test('a 403 with x-ratelimit-remaining: 0 is a rate limit (wait until reset, at least 60 s), not a missing scope', async () => {
    const ctx = harness.context(await harness.connect());
    harness.emulator.control.startRateLimitStorm(1, { status: 403 });
    const error = await expectVendorError(harness.connector.testConnection(ctx), VendorFailureType.RateLimited);
    expect(error.details.retryAfterMs).toBeGreaterThanOrEqual(60_000);
    harness.budgets.reset();
  });

  test('a real permission 403 stays MissingScope', async () => {
    const { mapGithubError } = await import('../../../activities/vendors/github');
    const forbidden = Object.assign(new Error('Resource not accessible by integration'), {
      name: 'HttpError',
      status: 403,
      response: {
        headers: { 'x-ratelimit-remaining': '4990' },
        data: { message: 'Resource not accessible by integration' },
      },
    });
    expect((mapGithubError(forbidden) as VendorError).type).toBe(VendorFailureType.MissingScope);
  });
});

describe('GitHub installation binding (issue #18 item 1)', () => {
  let acmeRepos: string[];
  beforeAll(() => {
    harness.emulator.control.addRepository('rival/secret-plans');
    harness.emulator.control.addRepository('rival/roadmap');
    acmeRepos = ['acme/site-a', 'acme/site-b'];
  });
  afterEach(() => {
    harness.emulator.control.setAuthorizingUser('octocat');
    harness.emulator.control.setInstallTarget(undefined);
  });

  test('T18 [github]: the installation page redirects to the Setup URL with the installation and our signed state, untouched', async () => {
    const setup = await harness.setup({ runId: 'run-setup' });
    expect(setup).toMatchObject({ installationId: String(harness.installationId), setupAction: 'update' });
    expect(harness.connector.installation!.verifySetupState(setup.state)).toMatchObject({ runId: 'run-setup' });
    // A state altered by the browser, or of another run, is not ours.
    const [payload, signature] = setup.state.split('.') as [string, string];
    const forged = `${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), r: 'run-other' })).toString('base64url')}.${signature}`;
    expect(harness.connector.installation!.verifySetupState(forged)).toBeUndefined();
    const expired = await harness.setup({ expiresAt: Date.now() - 1 });
    expect(harness.connector.installation!.verifySetupState(expired.state)).toBeUndefined();
  });

  test('T18 [github]: a member with access to another organisation’s installation cannot bind it (setup redirect forged)', async () => {
    const rivalInstallation = harness.emulator.control.install({
      account: 'rival',
      repositories: ['rival/secret-plans', 'rival/roadmap'],
      permissions: { metadata: 'read', contents: 'read', issues: 'write', statuses: 'write' },
      users: ['mallory'],
      owners: ['rival-owner'],
    });
    harness.emulator.control.setAuthorizingUser('mallory');
    // GitHub's installation page only lets an owner install or configure: mallory is not one of rival's.
    harness.emulator.control.setInstallTarget('rival');
    await expect(harness.setup()).rejects.toThrow(/installation page answered 403/);
    // Mallory forges the setup redirect with rival's installation id: refused, for the whole installation or any repository.
    const whole = await expectVendorError(
      harness.connect({ installationId: String(rivalInstallation) }),
      VendorFailureType.InstallationRefused,
    );
    expect(whole.message).toMatch(/does not administer every repository of the installation/);
    await expectVendorError(
      harness.connect({ installationId: String(rivalInstallation), controls: { repos: ['rival/secret-plans'] } }),
      VendorFailureType.InstallationRefused,
    );
    // An installation she cannot see at all is refused as well.
    harness.emulator.control.setAuthorizingUser('eve');
    const unseen = await expectVendorError(
      harness.connect({ installationId: String(rivalInstallation) }),
      VendorFailureType.InstallationRefused,
    );
    expect(unseen.message).toMatch(/no access to this installation/);
    // The owner may bind it.
    harness.emulator.control.setAuthorizingUser('rival-owner');
    const credential = await harness.connect({ installationId: String(rivalInstallation) });
    expect(credential.metadata).toEqual({ installationId: String(rivalInstallation), account: 'rival' });
  });

  test('T18 [github]: a selected repository outside the installation is refused with a clear failure', async () => {
    const error = await expectVendorError(
      harness.connect({ controls: { repos: [...acmeRepos, 'acme/private-hr'] } }),
      VendorFailureType.OutsideCustomerControls,
    );
    expect(error.message).toBe('github: selected repositories are outside the installation: acme/private-hr');
    const credential = await harness.connect({ controls: { repos: ['acme/site-b'] } });
    expect(credential.metadata?.installationId).toBe(String(harness.installationId));
  });

  test('T4 [github]: revoke never uninstalls an installation this integration did not bind', async () => {
    const credential = await harness.connect();
    const ctx = harness.context(credential);
    await expect(harness.connector.revoke(ctx)).resolves.toMatchObject({ revoked: true });
    expect(ctx.auditEntries.map((entry) => entry.action)).toEqual(['installation.revoke-token']);
    expect(harness.emulator.control.installation(harness.installationId)).toMatchObject({ deleted: false });
  });
});

describe('GitHub token lifecycle', () => {
  test('refresh rotates the user refresh token and mints a repo-narrowed installation token; the old refresh token is dead', async () => {
    const credential = await harness.connect();
    const ctx = harness.context(credential, { repos: ['acme/site-a'] });
    const refreshed = await harness.connector.refresh(ctx);
    expect(refreshed.refreshToken).not.toBe(credential.refreshToken);
    expect(refreshed.accessToken).not.toBe(credential.accessToken);
    const narrowed = harness.context(refreshed, {});
    const repos = await fullRound(harness.connector, narrowed, 'repositories', null);
    expect(repos.records.map((record) => record.payload.full_name)).toEqual(['acme/site-a']);
    await expectVendorError(harness.connector.refresh(ctx), VendorFailureType.ReauthorizationRequired);
  });

  test('T17 [github]: after a restriction to repo:read, refresh mints a token GitHub narrows to metadata and contents: issues are refused with 403', async () => {
    const credential = await harness.connect();
    const refreshed = await harness.connector.refresh({ ...harness.context(credential), scopes: ['repo:read'] });
    const tokenRequests = harness.emulator.control.requests.filter(
      (request) => request.path === `/app/installations/${harness.installationId}/access_tokens`,
    );
    expect((tokenRequests.at(-1)?.body as { permissions: unknown }).permissions).toEqual({
      metadata: 'read',
      contents: 'read',
    });
    // Straight at the emulator, past our own scope guard: the token itself carries no more.
    const call = (token: string, method: string, path: string, body?: unknown) =>
      fetch(`${harness.emulator.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, accept: 'application/vnd.github+json' },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
    expect((await call(refreshed.accessToken, 'GET', '/repos/acme/site-a/releases')).status).toBe(200);
    expect((await call(credential.accessToken, 'GET', '/repos/acme/site-a/issues')).status).toBe(200);
    for (const [method, path, body] of [
      ['GET', '/repos/acme/site-a/issues', undefined],
      ['POST', '/repos/acme/site-a/issues', { title: 'Outside the consent' }],
    ] as const) {
      const refused = await call(refreshed.accessToken, method, path, body);
      expect(refused.status).toBe(403);
      expect(((await refused.json()) as { message: string }).message).toBe('Resource not accessible by integration');
    }
  });

  test('an expired installation token (1 h) gets 401 → ReauthorizationRequired', async () => {
    const ctx = harness.context(await harness.connect());
    harness.emulator.control.clock.advance(61 * 60_000);
    try {
      await expectVendorError(harness.connector.testConnection(ctx), VendorFailureType.ReauthorizationRequired);
    } finally {
      harness.emulator.control.clock.advance(-61 * 60_000);
    }
  });

  test('T4 [github]: revoke deletes the installation token and uninstalls; calls then get 401 → ReauthorizationRequired', async () => {
    const credential = await harness.connect();
    const ctx = { ...harness.context(credential), boundInstallationId: String(harness.installationId) };
    await harness.connector.testConnection(ctx);
    await expect(harness.connector.revoke(ctx)).resolves.toEqual({
      revoked: true,
      note: githubDescriptor.revocation.note,
    });
    await expectVendorError(harness.connector.testConnection(ctx), VendorFailureType.ReauthorizationRequired);
    expect(ctx.auditEntries.map((entry) => [entry.action, entry.outcome])).toEqual([
      ['installation.list-repos', 'success'],
      ['installation.revoke-token', 'success'],
      ['installation.delete', 'success'],
      ['installation.list-repos', 'failure'],
    ]);
  });
});
