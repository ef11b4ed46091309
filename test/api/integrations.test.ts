/**
 * The integration routes end to end over the real Postgres (api role, RLS) and the Temporal dev
 * server, with the contract doubles of the workflows recording what the API delivered.
 */
import crypto from 'node:crypto';
import { consentCookieName, consentSessionValue } from '../../lib/oauth/consentSession';
import { createOAuthState, hashState } from '../../lib/oauth/pkce';
import { workflowIds } from '../../workflows/definitions';
import { WorkspaceIdKey } from '@trackproject/integrations-client/searchAttributes';
import { runPriority } from '@trackproject/integrations-client/priority';
import { decodePriority } from '@temporalio/common';
import { receivedQuery, REFUSED_CODE } from './support/contractWorkflows';
import {
  CONSENT_SESSION_KEY,
  PUBLIC_URL,
  TEMPORAL_UI,
  bearer,
  createHarness,
  seedIntegration,
  type Harness,
} from './support/harness';

/** Who started the consents of the callback tests (the admin-1 token's actor). */
const INITIATOR = { type: 'user' as const, id: 'admin-1' };

const uiLink = (workflowId: string) => `${TEMPORAL_UI}/namespaces/default/workflows/${encodeURIComponent(workflowId)}`;

describe('integration routes (real Postgres + Temporal dev server)', () => {
  let h: Harness;
  const logLines: string[] = [];
  const ws = crypto.randomUUID();
  let admin: Record<string, string>;
  let service: Record<string, string>;
  let member: Record<string, string>;

  beforeAll(async () => {
    h = await createHarness({ logLines });
    admin = bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'admin-1' }));
    service = bearer(await h.token({ workspaceId: ws, role: 'service', sub: 'svc-1' }));
    member = bearer(await h.token({ workspaceId: ws, role: 'member', sub: 'member-1' }));
  });
  afterAll(() => h.close());

  const received = (workflowId: string) =>
    h.services.temporal.client.workflow.getHandle(workflowId).query(receivedQuery);

  it('GET /v1/vendors lists the registered descriptors (scopes, auth kind, controls, data in/out)', async () => {
    const response = await h.app.inject({ method: 'GET', url: '/v1/vendors', headers: member });
    expect(response.statusCode).toBe(200);
    const github = response.json().vendors.find((v: { id: string }) => v.id === 'github');
    expect(github).toMatchObject({
      authKind: 'github-app',
      scopes: { required: ['repo:read', 'issues:write'], optional: [] },
      customerControl: { kind: 'repos' },
      webhookScheme: 'github-hmac-sha256',
    });
  });

  it('T2/T17: connect starts the connect workflow and answers 202 with the authorize URL, run id and Temporal UI link', async () => {
    await h.withWorker(async () => {
      const response = await h.app.inject({
        method: 'POST',
        url: `/v1/workspaces/${ws}/integrations`,
        headers: admin,
        payload: { vendor: 'sharepoint', controls: { sites: ['site-1'] } },
      });
      expect(response.statusCode).toBe(202);
      const body = response.json();
      expect(body.workflowId).toBe(workflowIds.connect(ws, body.integrationId));
      expect(body.status).toBe('awaiting-consent');
      // T2: never the vendor's URL itself, but this API's hand-off, which gives it to the initiator only.
      expect(body.authorizeUrl).toBe(`${PUBLIC_URL}/v1/workspaces/${ws}/integrations/${body.integrationId}/authorize`);
      expect(body.links.temporalUi).toBe(uiLink(body.workflowId));
      expect(body.links.status).toBe(`/v1/workspaces/${ws}/integrations/${body.integrationId}`);

      const [start] = await received(body.workflowId);
      expect(start!.arg).toEqual({
        workspaceId: ws,
        integrationId: body.integrationId,
        vendor: 'sharepoint',
        requestedScopes: ['Sites.Selected', 'Files.ReadWrite.Selected'],
        controls: { sites: ['site-1'] },
        redirectUri: `${PUBLIC_URL}/v1/oauth/callback/sharepoint`,
        actor: { type: 'user', id: 'admin-1' },
      });
      const description = await h.services.temporal.client.workflow.getHandle(body.workflowId).describe();
      expect(description.typedSearchAttributes.get(WorkspaceIdKey)).toBe(ws);
      // Interactive, and the workspace as fairness key (packages/client/src/priority.ts).
      expect(decodePriority(description.raw.workflowExecutionInfo?.priority)).toMatchObject(runPriority(ws, 'connect'));

      // Before the workflow writes a row, the status read answers from the run.
      const status = await h.app.inject({ method: 'GET', url: body.links.status, headers: member });
      expect(status.statusCode).toBe(200);
      expect(status.json()).toMatchObject({
        integrationId: body.integrationId,
        status: 'connecting',
        connect: { status: 'awaiting-consent' },
      });
    });
  });

  it('connect with an Idempotency-Key: a retry answers for the first attempt (one run, one integration); the key with another request is 422; a malformed key is 400', async () => {
    await h.withWorker(async () => {
      const connect = (key: string, payload: Record<string, unknown>, headers = admin) =>
        h.app.inject({
          method: 'POST',
          url: `/v1/workspaces/${ws}/integrations`,
          headers: { ...headers, 'idempotency-key': key },
          payload,
        });
      const key = `retry-${crypto.randomUUID()}`;
      const body = { vendor: 'sharepoint', controls: { sites: ['site-1', 'site-2'] } };
      const first = await connect(key, body);
      const connectRun = h.services.temporal.client.workflow.getHandle(first.json().workflowId);
      const firstRunId = (await connectRun.describe()).runId;
      // Same request again, scopes and sites in another order: the same request.
      const again = await connect(key, {
        ...body,
        controls: { sites: ['site-2', 'site-1'] },
        scopes: ['Files.ReadWrite.Selected', 'Sites.Selected'],
      });
      expect([first.statusCode, again.statusCode]).toEqual([202, 202]);
      expect(again.json()).toMatchObject({
        integrationId: first.json().integrationId,
        workflowId: first.json().workflowId,
        status: 'awaiting-consent',
        authorizeUrl: first.json().authorizeUrl,
      });
      expect(await received(first.json().workflowId)).toHaveLength(1);
      expect((await connectRun.describe()).runId).toBe(firstRunId);

      const reused = await connect(key, { vendor: 'sharepoint', controls: { sites: ['site-3'] } });
      expect(reused.statusCode).toBe(422);
      expect(reused.json()).toMatchObject({ errors: [{ pointer: '/headers/idempotency-key' }] });
      // Another caller's key, even the same string, is another request.
      const other = await connect(key, body, bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'admin-2' })));
      expect(other.statusCode).toBe(202);
      expect(other.json().integrationId).not.toBe(first.json().integrationId);
      for (const malformed of ['has space', 'x'.repeat(256)])
        expect((await connect(malformed, body)).statusCode).toBe(400);

      // Once the first attempt's run has closed, a retry reports it and never starts a second run.
      await connectRun.terminate('consent abandoned');
      const late = await connect(key, body);
      expect(late.statusCode).toBe(202);
      expect(late.json()).toMatchObject({ integrationId: first.json().integrationId, status: 'closed' });
      expect(late.json().authorizeUrl).toBeUndefined();
      expect((await connectRun.describe()).runId).toBe(firstRunId);
    });
  });

  it('T12: connect takes an initial pollIntervalMs for the connect workflow; below a new integration’s floor (a page per resource, plus the last syncs of the workspace’s integrations on the same budget, at least a budget minute) it is 422 naming the floor', async () => {
    // A workspace of its own: the connect started here stays out of the other tests' workspace.
    const own = crypto.randomUUID();
    const ownAdmin = bearer(await h.token({ workspaceId: own, role: 'admin', sub: 'admin-1' }));
    const post = (payload: object) =>
      h.app.inject({ method: 'POST', url: `/v1/workspaces/${own}/integrations`, headers: ownAdmin, payload });
    const below = await post({ vendor: 'jira', controls: { projects: ['SITE'] }, pollIntervalMs: 59_000 });
    expect(below.statusCode).toBe(422);
    expect(below.json()).toMatchObject({
      pollFloorMs: 60_000,
      errors: [{ pointer: '/body/pollIntervalMs', detail: 'must be at least 60000' }],
    });
    expect((await post({ vendor: 'teams', pollIntervalMs: 3_600_000 })).json().detail).toContain('syncs no data');
    expect((await post({ vendor: 'jira', pollIntervalMs: 999 })).statusCode).toBe(400);
    expect(await h.su('integrations').where({ workspace_id: own })).toHaveLength(0);

    // A connected Jira integration whose last sync cost 1,000 pages: in another workspace it draws on
    // another budget; in this one on the new integration's, (1,000 + 1 pages) / (100/min × 1/4) = 40.04 min.
    const jiraIn = async (workspaceId: string) => {
      const integrationId = crypto.randomUUID();
      await h
        .su('integrations')
        .insert({ integration_id: integrationId, workspace_id: workspaceId, vendor: 'jira', status: 'connected' });
      await h.su('sync_state').insert({
        workspace_id: workspaceId,
        integration_id: integrationId,
        resource: 'issues',
        last_round_pages: 1_000,
      });
      return integrationId;
    };
    const floorAtConnect = async (pollIntervalMs: number) => {
      const refused = await post({ vendor: 'jira', controls: { projects: ['SITE'] }, pollIntervalMs });
      expect(refused.statusCode).toBe(422);
      return refused.json().pollFloorMs;
    };
    await jiraIn(crypto.randomUUID());
    expect(await floorAtConnect(59_000)).toBe(60_000);
    const sibling = await jiraIn(own);
    expect(await floorAtConnect(40 * 60_000)).toBe(2_403_000);
    await h.su('sync_state').where({ integration_id: sibling }).delete();
    await h.su('integrations').where({ integration_id: sibling }).delete();

    await h.withWorker(async () => {
      const response = await post({ vendor: 'jira', controls: { projects: ['SITE'] }, pollIntervalMs: 900_000 });
      expect(response.statusCode).toBe(202);
      const [start] = await received(response.json().workflowId);
      expect(start!.arg).toMatchObject({ vendor: 'jira', pollIntervalMs: 900_000 });
    });
  });

  it('T1/T18: connect refuses scopes outside the matrix, missing required scopes, foreign controls and a foreign redirect URI, listing every problem (422)', async () => {
    const post = (payload: object) =>
      h.app.inject({ method: 'POST', url: `/v1/workspaces/${ws}/integrations`, headers: admin, payload });
    const broader = await post({
      vendor: 'sharepoint',
      scopes: ['Sites.Selected', 'Files.ReadWrite.Selected', 'Files.Read.All'],
    });
    expect(broader.statusCode).toBe(422);
    expect(broader.headers['content-type']).toContain('application/problem+json');
    expect(broader.json().errors).toEqual([
      { pointer: '/body/scopes/2', detail: expect.stringContaining('Files.Read.All') },
    ]);

    const missing = await post({ vendor: 'sharepoint', scopes: ['Sites.Selected'] });
    expect(missing.statusCode).toBe(422);
    expect(missing.json().errors[0].detail).toContain('Files.ReadWrite.Selected');

    const controls = await post({ vendor: 'sharepoint', controls: { channels: ['c1'], repos: ['x/y'] } });
    expect(controls.statusCode).toBe(422);
    expect(controls.json().errors.map((e: { pointer: string }) => e.pointer)).toEqual([
      '/body/controls/channels',
      '/body/controls/repos',
    ]);

    const redirect = await post({ vendor: 'sharepoint', redirectUri: 'https://attacker.test/cb' });
    expect(redirect.statusCode).toBe(422);
    expect((await post({ vendor: 'sharepoint', credential: { key: 'k' } })).statusCode).toBe(422);
    expect((await post({ vendor: 'sap' })).statusCode).toBe(422);
    expect((await post({ vendor: 'no-such' })).json().errors[0].pointer).toBe('/body/vendor');

    const invalid = await post({ vendor: 42, scopes: 'x', extra: true });
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json().errors.length).toBeGreaterThanOrEqual(3);
    // No workflow was started for any of them.
    expect(await h.su('integrations').where({ workspace_id: ws })).toHaveLength(0);
  });

  it('T6/T25: a service-account credential is stored envelope-encrypted before the workflow gets only its id; it is never logged nor in history', async () => {
    const credential = { clientId: 'sap-client', clientSecret: `s3cr3t-${crypto.randomUUID()}` };
    await h.withWorker(async () => {
      const response = await h.app.inject({
        method: 'POST',
        url: `/v1/workspaces/${ws}/integrations`,
        headers: admin,
        payload: { vendor: 'sap', credential },
      });
      expect(response.statusCode).toBe(202);
      const { integrationId, workflowId } = response.json();
      const [secret] = await h.su('secrets').where({ workspace_id: ws, integration_id: integrationId });
      expect(secret).toMatchObject({ kind: 'service-account', state: 'pending' });
      expect(Buffer.from(secret.ciphertext).toString('latin1')).not.toContain(credential.clientSecret);
      const [start] = await received(workflowId);
      expect((start!.arg as { credentialSecretId: string }).credentialSecretId).toBe(secret.secret_id);
      const history = JSON.stringify(await h.services.temporal.client.workflow.getHandle(workflowId).fetchHistory());
      expect(history).not.toContain(credential.clientSecret);
      expect(JSON.parse((await h.secrets.read(ws, secret.secret_id)).toString('utf8'))).toEqual(credential);
    });
    expect(logLines.length).toBeGreaterThan(0);
    expect(logLines.join('\n')).not.toContain(credential.clientSecret);
  });

  describe('OAuth callback', () => {
    let integrationId: string;
    let connectWorkflowId: string;
    const seedState = async (overrides: { redirectUri?: string; expiresInMs?: number; consumed?: boolean } = {}) => {
      const state = createOAuthState(ws, integrationId);
      await h.su('oauth_states').insert({
        state_hash: hashState(state),
        workspace_id: ws,
        integration_id: integrationId,
        workflow_id: connectWorkflowId,
        redirect_uri: overrides.redirectUri ?? `${PUBLIC_URL}/v1/oauth/callback/sharepoint`,
        initiator_type: INITIATOR.type,
        initiator_id: INITIATOR.id,
        expires_at: new Date(Date.now() + (overrides.expiresInMs ?? 600_000)),
        consumed_at: overrides.consumed ? new Date() : null,
      });
      return state;
    };
    /** The callback from the initiator's browser: with the consent session cookie of the query's state. */
    const callback = (query: string) => {
      const state = new URLSearchParams(query).get('state') ?? '';
      const session = consentSessionValue(CONSENT_SESSION_KEY, hashState(state), INITIATOR);
      return h.app.inject({
        method: 'GET',
        url: `/v1/oauth/callback/sharepoint?${query}`,
        headers: { cookie: `${consentCookieName(integrationId)}=${session}` },
      });
    };

    beforeAll(async () => {
      integrationId = await seedIntegration(h.su, { workspaceId: ws, vendor: 'sharepoint', status: 'pending' });
      connectWorkflowId = workflowIds.connect(ws, integrationId);
    });

    it('T2/T5: a valid state delivers the code to the connect workflow as an Update (no bearer token needed)', async () => {
      await h.withWorker(async () => {
        await h.services.temporal.client.workflow.start('connectWorkflow', {
          taskQueue: h.taskQueue,
          workflowId: connectWorkflowId,
          args: [
            {
              workspaceId: ws,
              integrationId,
              vendor: 'sharepoint',
              requestedScopes: [],
              controls: {},
              redirectUri: `${PUBLIC_URL}/v1/oauth/callback/sharepoint`,
              actor: { type: 'user', id: 'admin-1' },
            },
          ],
        });
        const refusedState = await seedState();
        const refused = await callback(`state=${encodeURIComponent(refusedState)}&code=${REFUSED_CODE}`);
        expect(refused.statusCode).toBe(422);
        expect(refused.json().code).toBe('ScopeBroaderThanRequested');

        const state = await seedState();
        const response = await callback(`state=${encodeURIComponent(state)}&code=auth-code-1&session_state=x`);
        expect(response.statusCode).toBe(200);
        expect(response.json()).toEqual({
          integrationId,
          workflowId: connectWorkflowId,
          status: 'accepted',
          links: { temporalUi: uiLink(connectWorkflowId) },
        });
        const log = await received(connectWorkflowId);
        expect(log.filter((e) => e.name === 'oauthCallback').map((e) => e.arg)).toEqual([
          { state, code: 'auth-code-1', consentedBy: INITIATOR },
        ]);
      });
      const audit = await h.su('audit_log').where({ workspace_id: ws, action: 'api.oauth.callback' }).orderBy('seq');
      expect(audit.map((r) => [r.actor_type, r.actor_id, r.outcome, r.error_class])).toEqual([
        ['vendor', 'sharepoint', 'failure', 'ScopeBroaderThanRequested'],
        ['vendor', 'sharepoint', 'success', null],
      ]);
    });

    it('T5: consumed, expired, foreign-redirect, unknown and malformed states are refused before any workflow hears of them', async () => {
      expect(
        (await callback(`state=${encodeURIComponent(await seedState({ consumed: true }))}&code=c`)).statusCode,
      ).toBe(409);
      expect(
        (await callback(`state=${encodeURIComponent(await seedState({ expiresInMs: -1000 }))}&code=c`)).statusCode,
      ).toBe(400);
      expect(
        (
          await callback(
            `state=${encodeURIComponent(await seedState({ redirectUri: 'https://elsewhere.test/cb' }))}&code=c`,
          )
        ).statusCode,
      ).toBe(400);
      const auditBefore = await h.su('audit_log').count('* as n').first();
      // Unknown state for a random workspace: refused, and nothing is written into that workspace's log.
      const strangerWs = crypto.randomUUID();
      const unknown = await callback(
        `state=${encodeURIComponent(createOAuthState(strangerWs, crypto.randomUUID()))}&code=c`,
      );
      expect(unknown.statusCode).toBe(400);
      expect(await h.su('audit_log').where({ workspace_id: strangerWs })).toHaveLength(0);
      expect((await callback('state=not-a-state&code=c')).statusCode).toBe(400);
      expect((await callback(`state=${encodeURIComponent(await seedState())}`)).statusCode).toBe(400);
      expect((await h.su('audit_log').count('* as n').first())!.n).toBe(auditBefore!.n);
    });
  });

  describe('with a running lifecycle', () => {
    let integrationId: string;
    let lifecycleId: string;

    beforeAll(async () => {
      integrationId = await seedIntegration(h.su, {
        workspaceId: ws,
        vendor: 'github',
        controls: { repos: ['org/a', 'org/b'] },
      });
      lifecycleId = workflowIds.lifecycle(ws, integrationId);
      await h.services.temporal.client.workflow.start('integrationLifecycleWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: lifecycleId,
        args: [{ workspaceId: ws, integrationId, vendor: 'github' }],
      });
    });

    it('T13: status combines the database row with the live workflow state', async () => {
      await h.withWorker(async () => {
        // Wait for the fresh worker to pick the run up: the API's own query deadline is short by design.
        await received(lifecycleId);
        const response = await h.app.inject({
          method: 'GET',
          url: `/v1/workspaces/${ws}/integrations/${integrationId}`,
          headers: member,
        });
        expect(response.statusCode).toBe(200);
        expect(response.json()).toMatchObject({
          integrationId,
          vendor: 'github',
          status: 'connected',
          grantedScopes: ['repo:read', 'issues:write'],
          controls: { repos: ['org/a', 'org/b'] },
          live: { status: 'connected', pendingSync: false, subscriptions: [] },
          links: { temporalUi: uiLink(lifecycleId) },
        });
        const list = await h.app.inject({ method: 'GET', url: `/v1/workspaces/${ws}/integrations`, headers: member });
        expect(list.json().integrations.map((i: { integrationId: string }) => i.integrationId)).toContain(
          integrationId,
        );
        // Another workspace sees none of it (RLS), even with a valid token of its own.
        const other = crypto.randomUUID();
        const foreign = await h.app.inject({
          method: 'GET',
          url: `/v1/workspaces/${other}/integrations/${integrationId}`,
          headers: bearer(await h.token({ workspaceId: other, role: 'admin' })),
        });
        expect(foreign.statusCode).toBe(404);
        // "Sync now" skips the row read while the lifecycle runs; another workspace still cannot reach it.
        const foreignSync = await h.app.inject({
          method: 'POST',
          url: `/v1/workspaces/${other}/integrations/${integrationId}/sync`,
          headers: bearer(await h.token({ workspaceId: other, role: 'admin' })),
        });
        expect(foreignSync.statusCode).toBe(404);
      });
    });

    it('T11: sync now starts one sync and joins it while in flight (idempotent); progress is readable', async () => {
      await h.withWorker(async () => {
        const first = await h.app.inject({
          method: 'POST',
          url: `/v1/workspaces/${ws}/integrations/${integrationId}/sync`,
          headers: service,
          payload: { resource: 'issues' },
        });
        const second = await h.app.inject({
          method: 'POST',
          url: `/v1/workspaces/${ws}/integrations/${integrationId}/sync`,
          headers: admin,
        });
        expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
        const syncId = workflowIds.sync(ws, integrationId);
        expect(first.json()).toMatchObject({
          workflowId: syncId,
          joined: false,
          status: 'started',
          links: { temporalUi: uiLink(syncId) },
        });
        expect(second.json()).toMatchObject({ workflowId: syncId, joined: true, status: 'joined' });
        // Where the API spent the time, durations only: bench:api reads it to locate a latency tail. A change is
        // audited as authorised before its Temporal call (then its outcome after), so audit comes first.
        expect(second.headers['server-timing']).toMatch(
          /^auth;dur=\d+\.\d\d, audit;dur=\d+\.\d\d, temporal;dur=\d+\.\d\d, app;dur=\d+\.\d\d$/,
        );
        const progress = await h.app.inject({
          method: 'GET',
          url: `/v1/workspaces/${ws}/integrations/${integrationId}/sync`,
          headers: member,
        });
        expect(progress.statusCode).toBe(200);
        expect(progress.json()).toMatchObject({
          workflowId: syncId,
          progress: { state: 'running', resource: 'issues' },
        });
        const log = await received(lifecycleId);
        // The join was answered by the Update's validator: only the request that started the sync reached the handler.
        expect(log.filter((e) => e.name === 'requestSync').map((e) => e.arg)).toEqual([
          { reason: 'admin', resource: 'issues' },
        ]);
      });
    });

    it('T17: restrict scopes narrows only (broadening is 422); controls change reaches the workflow; foreign controls are 422', async () => {
      await h.withWorker(async () => {
        const url = `/v1/workspaces/${ws}/integrations/${integrationId}`;
        const broaden = await h.app.inject({
          method: 'PATCH',
          url: `${url}/scopes`,
          headers: admin,
          payload: { scopes: ['repo:read', 'admin:org'] },
        });
        expect(broaden.statusCode).toBe(422);
        expect(broaden.json().errors).toEqual([
          { pointer: '/body/scopes/1', detail: expect.stringContaining('admin:org') },
        ]);
        const narrow = await h.app.inject({
          method: 'PATCH',
          url: `${url}/scopes`,
          headers: admin,
          payload: { scopes: ['repo:read'] },
        });
        expect(narrow.statusCode).toBe(200);
        expect(narrow.json()).toMatchObject({ workflowId: lifecycleId, status: 'accepted' });
        const controls = await h.app.inject({
          method: 'PATCH',
          url: `${url}/controls`,
          headers: admin,
          payload: { controls: { repos: ['org/a'] } },
        });
        expect(controls.statusCode).toBe(200);
        expect(
          (
            await h.app.inject({
              method: 'PATCH',
              url: `${url}/controls`,
              headers: admin,
              payload: { controls: { sites: ['s'] } },
            })
          ).statusCode,
        ).toBe(422);
        const rotate = await h.app.inject({ method: 'POST', url: `${url}/rotate`, headers: service });
        expect(rotate.statusCode).toBe(202);
        expect(rotate.json().workflowId).toBe(workflowIds.rotate(ws, integrationId));
        const log = await received(lifecycleId);
        expect(log.filter((e) => ['changeConsent', 'rotateNow'].includes(e.name))).toEqual([
          { name: 'changeConsent', arg: { actor: { type: 'user', id: 'admin-1' }, scopes: ['repo:read'] } },
          { name: 'changeConsent', arg: { actor: { type: 'user', id: 'admin-1' }, controls: { repos: ['org/a'] } } },
          { name: 'rotateNow', arg: { actor: { type: 'service', id: 'svc-1' } } },
        ]);
      });
    });

    it('T4/T15: disconnect answers 202 with the purge deadline (≤ 30 days) and joins a disconnect in flight', async () => {
      await h.withWorker(async () => {
        const url = `/v1/workspaces/${ws}/integrations/${integrationId}`;
        const before = Date.now();
        const first = await h.app.inject({ method: 'DELETE', url, headers: admin });
        const again = await h.app.inject({ method: 'DELETE', url, headers: admin });
        expect([first.statusCode, again.statusCode]).toEqual([202, 202]);
        const body = first.json();
        expect(body.workflowId).toBe(workflowIds.disconnect(ws, integrationId));
        expect(again.json().workflowId).toBe(body.workflowId);
        const deadline = Date.parse(body.purgeDeadline);
        expect(deadline).toBeGreaterThanOrEqual(before + 7 * 24 * 3_600_000 - 60_000);
        expect(deadline).toBeLessThanOrEqual(Date.now() + 30 * 24 * 3_600_000);
        const [start] = await received(body.workflowId);
        expect(start!.arg).toMatchObject({
          workspaceId: ws,
          integrationId,
          actor: { type: 'user', id: 'admin-1' },
          purgeDelayMs: 7 * 24 * 3_600_000,
        });
      });
    });
  });

  it('sync, rotate and consent changes on an integration without a running lifecycle are 409, never 5xx', async () => {
    const idle = await seedIntegration(h.su, { workspaceId: ws, vendor: 'github' });
    const url = `/v1/workspaces/${ws}/integrations/${idle}`;
    expect((await h.app.inject({ method: 'POST', url: `${url}/sync`, headers: admin })).statusCode).toBe(409);
    expect((await h.app.inject({ method: 'POST', url: `${url}/rotate`, headers: admin })).statusCode).toBe(409);
    expect(
      (
        await h.app.inject({
          method: 'PATCH',
          url: `${url}/scopes`,
          headers: admin,
          payload: { scopes: ['repo:read'] },
        })
      ).statusCode,
    ).toBe(409);
    const missing = await h.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${ws}/integrations/${crypto.randomUUID()}/sync`,
      headers: admin,
    });
    expect(missing.statusCode).toBe(404);
  });

  it('T8: rotate on a sign-in-only integration (Entra ID) is 422: it holds no credential of its own to rotate', async () => {
    const entra = await seedIntegration(h.su, { workspaceId: ws, vendor: 'entra' });
    const response = await h.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${ws}/integrations/${entra}/rotate`,
      headers: admin,
    });
    expect(response.statusCode).toBe(422);
    expect(response.json().detail).toMatch(/sign-in only/);
  });

  it('T16: workspace deletion starts the delete workflow once (idempotent) with the purge bound', async () => {
    const gone = crypto.randomUUID();
    const token = bearer(await h.token({ workspaceId: gone, role: 'admin', sub: 'admin-9' }));
    await h.withWorker(async () => {
      const first = await h.app.inject({ method: 'DELETE', url: `/v1/workspaces/${gone}`, headers: token });
      const second = await h.app.inject({ method: 'DELETE', url: `/v1/workspaces/${gone}`, headers: token });
      expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
      expect(first.json()).toMatchObject({
        workflowId: workflowIds.workspaceDelete(gone),
        status: 'deleting',
        links: { temporalUi: uiLink(workflowIds.workspaceDelete(gone)) },
      });
      const [start] = await received(workflowIds.workspaceDelete(gone));
      expect(start!.arg).toEqual({
        workspaceId: gone,
        actor: { type: 'user', id: 'admin-9' },
        purgeDelayMs: 7 * 24 * 3_600_000,
      });
    });
  });

  it('T10: the audit log lists the calls above, filtered and paginated, newest first', async () => {
    const page1 = await h.app.inject({ method: 'GET', url: `/v1/workspaces/${ws}/audit?limit=2`, headers: member });
    expect(page1.statusCode).toBe(200);
    const body = page1.json();
    expect(body.entries).toHaveLength(2);
    expect(Number(body.entries[0].seq)).toBeGreaterThan(Number(body.entries[1].seq));
    const page2 = await h.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${ws}/audit?limit=2&cursor=${body.nextCursor}`,
      headers: member,
    });
    expect(Number(page2.json().entries[0].seq)).toBeLessThan(Number(body.entries[1].seq));

    const syncs = await h.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${ws}/audit?action=api.integration.sync&outcome=success`,
      headers: member,
    });
    expect(
      syncs
        .json()
        .entries.map((e: { actor: { id: string } }) => e.actor.id)
        .sort(),
    ).toEqual(['admin-1', 'svc-1']);
    for (const entry of syncs.json().entries) {
      expect(entry).toMatchObject({
        direction: 'inbound',
        scope: 'operate',
        workflowId: expect.stringContaining('/sync'),
        requestId: expect.any(String),
      });
    }
    const denied = await h.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${ws}/audit?outcome=bogus`,
      headers: member,
    });
    expect(denied.statusCode).toBe(400);
  });
});
