/**
 * Issue #18 items 3 and 10 (T2): a pending consent can be completed only by the user who started
 * it, in their browser session; the authorize URL reaches no one else; the consent ledger and the
 * purge receipts are readable by admins. Real Postgres (api role, RLS) and the Temporal dev server
 * with the contract doubles of the workflows.
 */
import crypto from 'node:crypto';
import { consentCookieName, consentSessionValue } from '../../lib/oauth/consentSession';
import { hashState } from '../../lib/oauth/pkce';
import { contractState, receivedQuery } from './support/contractWorkflows';
import {
  CONSENT_SESSION_KEY,
  PUBLIC_URL,
  bearer,
  createHarness,
  seedIntegration,
  type Harness,
} from './support/harness';

describe('consent binding and the admins records (real Postgres + Temporal dev server)', () => {
  let h: Harness;
  const ws = crypto.randomUUID();
  let initiator: Record<string, string>;
  let otherAdmin: Record<string, string>;
  let member: Record<string, string>;
  let service: Record<string, string>;

  beforeAll(async () => {
    h = await createHarness();
    initiator = bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'admin-1' }));
    otherAdmin = bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'admin-2' }));
    member = bearer(await h.token({ workspaceId: ws, role: 'member', sub: 'member-1' }));
    service = bearer(await h.token({ workspaceId: ws, role: 'service', sub: 'svc-1' }));
  });
  afterAll(() => h.close());

  /**
   * admin-1 connects SharePoint; the double publishes its authorize URL with `contractState`, whose
   * `oauth_states` row the real workflow's activity would write (bound to admin-1) and we seed.
   */
  async function connectAwaitingConsent() {
    const response = await h.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${ws}/integrations`,
      headers: initiator,
      payload: { vendor: 'sharepoint', controls: { sites: ['site-1'] } },
    });
    expect(response.statusCode).toBe(202);
    const { integrationId, workflowId } = response.json() as { integrationId: string; workflowId: string };
    // The double writes no row; the real workflow's first activity does.
    await h
      .su('integrations')
      .insert({ integration_id: integrationId, workspace_id: ws, vendor: 'sharepoint', status: 'pending' })
      .onConflict('integration_id')
      .ignore();
    const state = contractState(ws, integrationId);
    await h.su('oauth_states').insert({
      state_hash: hashState(state),
      workspace_id: ws,
      integration_id: integrationId,
      workflow_id: workflowId,
      redirect_uri: `${PUBLIC_URL}/v1/oauth/callback/sharepoint`,
      initiator_type: 'user',
      initiator_id: 'admin-1',
      expires_at: new Date(Date.now() + 600_000),
    });
    return { integrationId, workflowId, state, path: `/v1/workspaces/${ws}/integrations/${integrationId}` };
  }

  const callbacksReceived = async (workflowId: string) =>
    (await h.services.temporal.client.workflow.getHandle(workflowId).query(receivedQuery)).filter(
      (entry) => entry.name === 'oauthCallback',
    );

  it("T2: a member's status read carries no authorize URL; an admin's carries this API's hand-off link, never the vendor's URL", async () => {
    await h.withWorker(async () => {
      const { integrationId, path } = await connectAwaitingConsent();
      const asMember = await h.app.inject({ method: 'GET', url: path, headers: member });
      expect(asMember.statusCode).toBe(200);
      expect(asMember.json().connect).toEqual({ status: 'awaiting-consent' });
      expect(asMember.body).not.toContain('vendor.invalid');
      expect(asMember.body).not.toContain(contractState(ws, integrationId));

      const asAdmin = await h.app.inject({ method: 'GET', url: path, headers: otherAdmin });
      expect(asAdmin.json().connect).toEqual({
        status: 'awaiting-consent',
        authorizeUrl: `${PUBLIC_URL}${path}/authorize`,
      });
      expect(asAdmin.body).not.toContain('vendor.invalid');
    });
  });

  it('T2: the authorize hand-off gives the vendor URL and an HttpOnly, SameSite consent session cookie to the initiator only', async () => {
    await h.withWorker(async () => {
      const { integrationId, state, path } = await connectAwaitingConsent();
      for (const [headers, status] of [
        [member, 403],
        [service, 403],
        [otherAdmin, 403],
      ] as const) {
        const refused = await h.app.inject({ method: 'GET', url: `${path}/authorize`, headers });
        expect(refused.statusCode).toBe(status);
        expect(refused.headers['content-type']).toContain('application/problem+json');
        expect(refused.headers['set-cookie']).toBeUndefined();
        expect(refused.body).not.toContain(state);
      }

      const handed = await h.app.inject({ method: 'GET', url: `${path}/authorize`, headers: initiator });
      expect(handed.statusCode).toBe(200);
      expect(new URL(handed.json().authorizeUrl).searchParams.get('state')).toBe(state);
      expect(handed.headers['cache-control']).toBe('no-store');
      const cookie = String(handed.headers['set-cookie']);
      const expected = consentSessionValue(CONSENT_SESSION_KEY, hashState(state), { type: 'user', id: 'admin-1' });
      expect(cookie).toMatch(new RegExp(`^${consentCookieName(integrationId)}=${expected}; Path=/v1/oauth/callback;`));
      expect(cookie).toMatch(/; HttpOnly; SameSite=Lax; Secure$/);
      expect(Number(/Max-Age=(\d+)/.exec(cookie)![1])).toBeGreaterThan(500);

      // No consent awaited (an integration without a connect run): 409, nothing handed out.
      const idle = await seedIntegration(h.su, { workspaceId: ws, vendor: 'github' });
      const none = await h.app.inject({
        method: 'GET',
        url: `/v1/workspaces/${ws}/integrations/${idle}/authorize`,
        headers: initiator,
      });
      expect(none.statusCode).toBe(409);
      expect(none.json().detail).toBe('No consent is awaited for this integration');
    });
    const audit = await h.su('audit_log').where({ workspace_id: ws, action: 'api.integration.authorize' });
    expect(audit.map((row) => [row.actor_id, row.outcome])).toEqual(
      expect.arrayContaining([
        ['admin-2', 'denied'],
        ['admin-1', 'success'],
      ]),
    );
  });

  it("T2: a member who learned the authorize URL cannot complete the admin's consent: the callback needs the initiator's session cookie, and names who consented", async () => {
    await h.withWorker(async () => {
      const { integrationId, workflowId, state } = await connectAwaitingConsent();
      const callback = (cookie?: string) =>
        h.app.inject({
          method: 'GET',
          url: `/v1/oauth/callback/sharepoint?state=${encodeURIComponent(state)}&code=members-own-account`,
          ...(cookie ? { headers: { cookie } } : {}),
        });
      const name = consentCookieName(integrationId);
      const forMember = consentSessionValue(CONSENT_SESSION_KEY, hashState(state), { type: 'user', id: 'member-1' });
      const otherState = consentSessionValue(CONSENT_SESSION_KEY, hashState(`${state}x`), {
        type: 'user',
        id: 'admin-1',
      });
      const otherKey = consentSessionValue(crypto.randomBytes(32), hashState(state), { type: 'user', id: 'admin-1' });
      for (const cookie of [undefined, `${name}=${forMember}`, `${name}=${otherState}`, `${name}=${otherKey}`]) {
        const refused = await callback(cookie);
        expect(refused.statusCode).toBe(403);
        expect(refused.json().detail).toBe('Complete the consent in the browser session of the user who started it');
      }
      expect(await callbacksReceived(workflowId)).toEqual([]);

      const session = consentSessionValue(CONSENT_SESSION_KEY, hashState(state), { type: 'user', id: 'admin-1' });
      const accepted = await callback(`other=1; ${name}=${session}`);
      expect(accepted.statusCode).toBe(200);
      expect(String(accepted.headers['set-cookie'])).toMatch(
        new RegExp(`^${name}=; Path=/v1/oauth/callback; Max-Age=0;`),
      );
      expect((await callbacksReceived(workflowId)).map((entry) => entry.arg)).toEqual([
        { state, code: 'members-own-account', consentedBy: { type: 'user', id: 'admin-1' } },
      ]);
    });
    const refusals = await h.su('audit_log').where({
      workspace_id: ws,
      action: 'api.oauth.callback',
      error_class: 'ConsentSessionMismatch',
    });
    expect(refusals).toHaveLength(4);
  });

  it('T2: the consent ledger is readable by admins only, newest first, paginated and bound to the workspace', async () => {
    const integrationId = await seedIntegration(h.su, { workspaceId: ws, vendor: 'github' });
    const actions = ['granted', 'narrowed', 'controls_changed', 'reauthorized', 'revoked'];
    for (const [i, action] of actions.entries()) {
      await h.su('consent_events').insert({
        workspace_id: ws,
        integration_id: integrationId,
        actor_type: 'user',
        actor_id: `admin-${i}`,
        action,
        scopes: ['repo:read'],
        controls: JSON.stringify({ repos: ['org/a'] }),
      });
    }
    // Another workspace's ledger for an integration of the same id shape: never visible here.
    const strangerWs = crypto.randomUUID();
    const stranger = await seedIntegration(h.su, { workspaceId: strangerWs, vendor: 'github' });
    await h.su('consent_events').insert({
      workspace_id: strangerWs,
      integration_id: stranger,
      actor_type: 'user',
      actor_id: 'stranger',
      action: 'granted',
    });
    const url = `/v1/workspaces/${ws}/integrations/${integrationId}/consents`;

    for (const headers of [member, service])
      expect((await h.app.inject({ method: 'GET', url, headers })).statusCode).toBe(403);

    const first = await h.app.inject({ method: 'GET', url: `${url}?limit=3`, headers: otherAdmin });
    expect(first.statusCode).toBe(200);
    expect(first.json().consents.map((c: { action: string }) => c.action)).toEqual([
      'revoked',
      'reauthorized',
      'controls_changed',
    ]);
    expect(first.json().consents[0]).toMatchObject({
      actor: { type: 'user', id: 'admin-4' },
      scopes: ['repo:read'],
      controls: { repos: ['org/a'] },
    });
    expect(Date.parse(first.json().consents[0].at)).not.toBeNaN();
    const second = await h.app.inject({
      method: 'GET',
      url: `${url}?limit=3&cursor=${first.json().nextCursor}`,
      headers: otherAdmin,
    });
    expect(second.json()).toMatchObject({ nextCursor: null });
    expect(second.json().consents.map((c: { actor: { id: string } }) => c.actor.id)).toEqual(['admin-1', 'admin-0']);

    const foreign = await h.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${ws}/integrations/${stranger}/consents`,
      headers: otherAdmin,
    });
    expect(foreign.statusCode).toBe(404);
    expect((await h.app.inject({ method: 'GET', url: `${url}?cursor=0`, headers: otherAdmin })).statusCode).toBe(400);
    // 19 digits can pass the bigint range: refused as bad input, not a database error (found by the fuzz run).
    const beyondBigint = await h.app.inject({
      method: 'GET',
      url: `${url}?cursor=9999999999999999999`,
      headers: otherAdmin,
    });
    expect([beyondBigint.statusCode, beyondBigint.headers['content-type']]).toEqual([
      400,
      'application/problem+json; charset=utf-8',
    ]);
    const audit = await h
      .su('audit_log')
      .where({ workspace_id: ws, action: 'api.integration.consents' })
      .orderBy('seq');
    expect(audit.map((row) => [row.actor_id, row.outcome])).toEqual([
      ['member-1', 'denied'],
      ['svc-1', 'denied'],
      ['admin-2', 'success'],
      ['admin-2', 'success'],
      ['admin-2', 'failure'], // the other workspace's integration: 404
      ['admin-2', 'failure'], // the malformed cursor: 400
      ['admin-2', 'failure'], // the cursor beyond bigint: 400
    ]);
  });

  it('T2/T15: purge receipts are readable by admins only, newest first, paginated, per integration if asked, bound to the workspace', async () => {
    const receiptsWs = crypto.randomUUID();
    const admin = bearer(await h.token({ workspaceId: receiptsWs, role: 'admin', sub: 'admin-1' }));
    const integrations = [
      await seedIntegration(h.su, { workspaceId: receiptsWs, vendor: 'github', status: 'disconnected' }),
      await seedIntegration(h.su, { workspaceId: receiptsWs, vendor: 'jira', status: 'disconnected' }),
    ];
    const base = Date.now() - 3_600_000;
    const receipts: string[] = [];
    // Three receipts in one microsecond (ties broken by id) and two later ones.
    for (const [i, offsetMs] of [0, 0, 0, 1000, 2000].entries()) {
      const receiptId = crypto.randomUUID();
      receipts.push(receiptId);
      await h.su('purge_receipts').insert({
        receipt_id: receiptId,
        workspace_id: receiptsWs,
        integration_id: integrations[i % 2]!,
        vendor: i % 2 ? 'jira' : 'github',
        disconnected_at: new Date(base - 1000),
        purged_at: new Date(base + offsetMs),
        counts: JSON.stringify({ cached_records: i }),
      });
    }
    const otherWs = crypto.randomUUID();
    const otherIntegration = await seedIntegration(h.su, { workspaceId: otherWs, vendor: 'github' });
    await h.su('purge_receipts').insert({
      receipt_id: crypto.randomUUID(),
      workspace_id: otherWs,
      integration_id: otherIntegration,
      vendor: 'github',
    });
    const url = `/v1/workspaces/${receiptsWs}/purge-receipts`;
    expect(
      (
        await h.app.inject({
          method: 'GET',
          url,
          headers: bearer(await h.token({ workspaceId: receiptsWs, role: 'member' })),
        })
      ).statusCode,
    ).toBe(403);

    const seen: Array<{ receiptId: string; purgedAt: string; counts: Record<string, number> }> = [];
    let cursor: string | null = null;
    do {
      const page: Awaited<ReturnType<typeof h.app.inject>> = await h.app.inject({
        method: 'GET',
        url: `${url}?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        headers: admin,
      });
      expect(page.statusCode).toBe(200);
      seen.push(...page.json().receipts);
      cursor = page.json().nextCursor;
    } while (cursor);
    const tied = [...receipts.slice(0, 3)].sort().reverse();
    expect(seen.map((r) => r.receiptId)).toEqual([receipts[4], receipts[3], ...tied]);
    expect(seen[0]).toMatchObject({
      integrationId: integrations[0],
      vendor: 'github',
      counts: { cached_records: 4 },
      purgedAt: new Date(base + 2000).toISOString(),
      disconnectedAt: new Date(base - 1000).toISOString(),
    });

    const one = await h.app.inject({ method: 'GET', url: `${url}?integrationId=${integrations[1]}`, headers: admin });
    expect(
      one
        .json()
        .receipts.map((r: { receiptId: string }) => r.receiptId)
        .sort(),
    ).toEqual([receipts[1], receipts[3]].sort());
    expect((await h.app.inject({ method: 'GET', url: `${url}?cursor=bogus`, headers: admin })).statusCode).toBe(400);
  });
});
