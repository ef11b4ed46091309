/**
 * T17, T23: every route authenticates (JWT) and authorises (role × route), a token never works for
 * another workspace, and denials land in the workspace audit log (T10).
 */
import crypto from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  AuthenticationError,
  ROLES,
  createAuthenticator,
  mintToken,
  resolveHsSecret,
  roleAllows,
  type Role,
} from '../../api/auth';
import { createRateLimiter } from '../../api/rateLimit';
import { AUDIENCE, ISSUER, bearer, createHarness, seedIntegration, type Harness } from './support/harness';
import { ROUTES, type RouteCase } from './support/routes';

describe('authenticator (jose)', () => {
  const secret = crypto.randomBytes(48);
  const auth = createAuthenticator({ issuer: ISSUER, audience: AUDIENCE, hsSecret: secret });
  const ws = crypto.randomUUID();
  const reason = async (header: string | undefined) => {
    try {
      await auth.authenticate(header);
      return 'accepted';
    } catch (error) {
      return error instanceof AuthenticationError ? error.reason : `unexpected ${String(error)}`;
    }
  };

  it('T23: accepts a valid HS256 token and returns sub, workspace and role', async () => {
    const token = await mintToken({
      secret,
      issuer: ISSUER,
      audience: AUDIENCE,
      sub: 'u-1',
      workspaceId: ws,
      role: 'member',
    });
    await expect(auth.authenticate(`Bearer ${token}`)).resolves.toEqual({
      sub: 'u-1',
      workspaceId: ws,
      role: 'member',
    });
  });

  it('T23: refuses missing, malformed, expired, forged, wrong-issuer, wrong-audience and claim-less tokens', async () => {
    const sign = (
      claims: Record<string, unknown>,
      opts: { key?: Uint8Array; iss?: string; aud?: string; exp?: number | string } = {},
    ) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('u-1')
        .setIssuer(opts.iss ?? ISSUER)
        .setAudience(opts.aud ?? AUDIENCE)
        .setIssuedAt()
        .setExpirationTime(opts.exp ?? '1h')
        .sign(opts.key ?? secret);
    const good = { workspace_id: ws, role: 'admin' };
    expect(await reason(undefined)).toBe('missing');
    expect(await reason('Basic dXNlcjpwYXNz')).toBe('malformed');
    expect(await reason(`Bearer ${await sign(good, { exp: Math.floor(Date.now() / 1000) - 120 })}`)).toBe('expired');
    expect(await reason(`Bearer ${await sign(good, { key: crypto.randomBytes(48) })}`)).toBe('invalid');
    expect(await reason(`Bearer ${await sign(good, { iss: 'https://evil.test' })}`)).toBe('invalid');
    expect(await reason(`Bearer ${await sign(good, { aud: 'another-api' })}`)).toBe('invalid');
    expect(await reason(`Bearer ${await sign({ workspace_id: ws, role: 'owner' })}`)).toBe('claims');
    expect(await reason(`Bearer ${await sign({ workspace_id: 'not-a-uuid', role: 'admin' })}`)).toBe('claims');
    expect(await reason(`Bearer ${await sign({ role: 'admin' })}`)).toBe('claims');
    // alg=none and a token signed for RS256 are refused for an HS256 deployment.
    const [header, payload] = (await sign(good)).split('.');
    const noneHeader = Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url');
    expect(await reason(`Bearer ${noneHeader}.${payload}.`)).toBe('invalid');
    expect(header).toBeTruthy();
  });

  it('T23: refuses tokens that live longer than the cap, or that carry no iat or no exp', async () => {
    const capped = createAuthenticator({
      issuer: ISSUER,
      audience: AUDIENCE,
      hsSecret: secret,
      maxLifetimeMs: 3_600_000,
    });
    const sign = (lifetime: { iat?: boolean; exp?: string }) => {
      const jwt = new SignJWT({ workspace_id: ws, role: 'service' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('svc-long')
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE);
      if (lifetime.iat !== false) jwt.setIssuedAt();
      if (lifetime.exp) jwt.setExpirationTime(lifetime.exp);
      return jwt.sign(secret);
    };
    const outcome = (token: string) =>
      capped.authenticate(`Bearer ${token}`).then(
        () => 'accepted',
        (error: AuthenticationError) => error.reason,
      );
    expect(await outcome(await sign({ exp: '1h' }))).toBe('accepted');
    expect(await outcome(await sign({ exp: '61m' }))).toBe('claims');
    expect(await outcome(await sign({ exp: '3650d' }))).toBe('claims');
    expect(await outcome(await sign({ exp: '5m', iat: false }))).toBe('invalid');
    expect(await outcome(await sign({}))).toBe('invalid');
    // The default cap (24 h) applies when none is given.
    expect(await reason(`Bearer ${await sign({ exp: '25h' })}`)).toBe('claims');
    expect(await reason(`Bearer ${await sign({ exp: '23h' })}`)).toBe('accepted');
  });

  it('T23: a remembered verification never outlives the token, and a forged twin of a remembered token is still refused', async () => {
    let clock = Date.now();
    const cached = createAuthenticator({ issuer: ISSUER, audience: AUDIENCE, hsSecret: secret, now: () => clock });
    const token = await mintToken({
      secret,
      issuer: ISSUER,
      audience: AUDIENCE,
      sub: 'svc-1',
      workspaceId: ws,
      role: 'service',
      expiresIn: Math.floor(clock / 1000) + 10,
    });
    const caller = { sub: 'svc-1', workspaceId: ws, role: 'service' };
    await expect(cached.authenticate(`Bearer ${token}`)).resolves.toEqual(caller);
    await expect(cached.authenticate(`Bearer ${token}`)).resolves.toEqual(caller);
    // Same header and claims, another signature: not the remembered token.
    const [header, payload, signature] = token.split('.');
    const forged = `${header}.${payload}.${signature!.slice(0, -4)}${signature!.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    await expect(cached.authenticate(`Bearer ${forged}`)).rejects.toMatchObject({ reason: 'invalid' });
    clock += 41_000; // past exp + the 30 s tolerance, yet well inside the 60 s memory: exp bounds it
    await expect(cached.authenticate(`Bearer ${token}`)).rejects.toMatchObject({ reason: 'expired' });
  });

  it('T23: verifies RS256 tokens against a JWKS (production mode) and refuses HS256 there', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const jwk = { ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const http = await import('node:http');
    const jwksServer = http.createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [jwk] })),
    );
    await new Promise<void>((resolve) => jwksServer.listen(0, '127.0.0.1', resolve));
    try {
      const port = (jwksServer.address() as { port: number }).port;
      const jwksAuth = createAuthenticator({
        issuer: ISSUER,
        audience: AUDIENCE,
        jwksUrl: `http://127.0.0.1:${port}/jwks.json`,
      });
      const token = await new SignJWT({ workspace_id: ws, role: 'service' })
        .setProtectedHeader({ alg: 'RS256', kid: 'k1' })
        .setSubject('svc-1')
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(privateKey);
      await expect(jwksAuth.authenticate(`Bearer ${token}`)).resolves.toEqual({
        sub: 'svc-1',
        workspaceId: ws,
        role: 'service',
      });
      const hs = await mintToken({
        secret,
        issuer: ISSUER,
        audience: AUDIENCE,
        sub: 'u',
        workspaceId: ws,
        role: 'admin',
      });
      await expect(jwksAuth.authenticate(`Bearer ${hs}`)).rejects.toBeInstanceOf(AuthenticationError);
    } finally {
      await new Promise((resolve) => jwksServer.close(resolve));
    }
  });
});

describe('signing secret resolution', () => {
  it('development without JWT_SECRET: generates one owner-only secret file once and reuses it; production never falls back', () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'jwt-secret-'));
    try {
      const auth = { issuer: ISSUER, audience: AUDIENCE, maxLifetimeMs: 3_600_000 };
      const first = resolveHsSecret({ env: 'development', dataDir, auth });
      const second = resolveHsSecret({ env: 'development', dataDir, auth });
      expect(Buffer.from(first!).length).toBeGreaterThanOrEqual(32);
      expect(Buffer.from(second!).equals(Buffer.from(first!))).toBe(true);
      expect(fs.statSync(path.join(dataDir, 'jwt-secret')).mode & 0o777).toBe(0o600);
      expect(resolveHsSecret({ env: 'production', dataDir, auth })).toBeUndefined();
      expect(
        Buffer.from(
          resolveHsSecret({ env: 'production', dataDir, auth: { ...auth, jwtSecret: 'x'.repeat(32) } })!,
        ).toString(),
      ).toBe('x'.repeat(32));
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe('rate limiter (token buckets)', () => {
  it('T23: limits per caller, per workspace and per anonymous address, and refills over time', async () => {
    let now = 0;
    const limiter = createRateLimiter(
      {
        caller: { capacity: 2, refillPerSecond: 1 },
        workspace: { capacity: 3, refillPerSecond: 1 },
        anonymous: { capacity: 1, refillPerSecond: 0.5 },
      },
      { now: () => now },
    );
    const caller = (subject: string) => limiter.checkCaller(subject, 'w');
    expect([await caller('a'), await caller('a'), await caller('a')]).toEqual([0, 0, 1]);
    // Another caller of the same workspace: one token left in the workspace bucket.
    expect([await caller('b'), await caller('b')]).toEqual([0, 1]);
    expect([
      limiter.checkAnonymous('10.0.0.1'),
      limiter.checkAnonymous('10.0.0.1'),
      limiter.checkAnonymous('10.0.0.2'),
    ]).toEqual([0, 2, 0]);
    now += 2_000;
    expect([await caller('a'), limiter.checkAnonymous('10.0.0.1')]).toEqual([0, 0]);
    await limiter.close();
  });
});

describe('authorization matrix over the real API', () => {
  /** The API's log lines: a 5xx fails with the server's own account of it. */
  const logs: string[] = [];
  let h: Harness;
  const ws = crypto.randomUUID();
  const otherWs = crypto.randomUUID();
  let integrationId: string;

  beforeAll(async () => {
    h = await createHarness({ logLines: logs });
    integrationId = await seedIntegration(h.su, { workspaceId: ws, vendor: 'github' });
  });
  afterAll(async () => {
    // The "delete workspace" and "disconnect" cases start runs that no worker serves here: end them.
    for (const id of [`workspace/${ws}/delete`, `integration/${ws}/${integrationId}/disconnect`]) {
      await h.services.temporal.client.workflow
        .getHandle(id)
        .terminate('test cleanup')
        .catch(() => undefined);
    }
    await h.close();
  });

  const inject = (route: RouteCase, headers: Record<string, string>, workspaceId = ws) =>
    h.app.inject({
      method: route.method,
      url: route.url(workspaceId, integrationId),
      headers,
      ...(route.body !== undefined ? { payload: route.body as object } : {}),
    });

  const cases = ROUTES.flatMap((route) =>
    ROLES.map((role) => [route.name, role, roleAllows(role, route.permission)] as const),
  );

  it.each(cases)('T17/T23: %s as %s → allowed=%s', async (name, role, allowed) => {
    const route = ROUTES.find((r) => r.name === name)!;
    const response = await inject(route, bearer(await h.token({ workspaceId: ws, role: role as Role })));
    if (allowed) {
      expect([401, 403]).not.toContain(response.statusCode);
      const requestId = String(response.headers['x-request-id']);
      expect({
        status: response.statusCode < 500 ? 'not 5xx' : response.statusCode,
        log: response.statusCode < 500 ? [] : logs.filter((line) => line.includes(requestId)),
      }).toEqual({ status: 'not 5xx', log: [] });
    } else {
      expect(response.statusCode).toBe(403);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
  });

  it.each(ROUTES.map((r) => [r.name]))('T23: %s with a token for another workspace → 403', async (name) => {
    const route = ROUTES.find((r) => r.name === name)!;
    if (!route.url(ws, integrationId).includes(ws)) return; // /v1/vendors is not workspace-scoped
    const response = await inject(route, bearer(await h.token({ workspaceId: otherWs, role: 'admin' })));
    expect(response.statusCode).toBe(403);
    expect(response.json().detail).toMatch(/not valid for this workspace/);
  });

  it.each(ROUTES.map((r) => [r.name]))('T23: %s without, with an expired or a forged token → 401', async (name) => {
    const route = ROUTES.find((r) => r.name === name)!;
    const expired = await h.token({ workspaceId: ws, role: 'admin', expiresIn: Math.floor(Date.now() / 1000) - 600 });
    const forged = await mintToken({
      secret: crypto.randomBytes(48),
      issuer: ISSUER,
      audience: AUDIENCE,
      sub: 'x',
      workspaceId: ws,
      role: 'admin',
    });
    for (const headers of [{}, bearer(expired), bearer(forged), { authorization: 'Bearer' }]) {
      const response = await inject(route, headers);
      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.headers['content-type']).toContain('application/problem+json');
      expect(response.headers['x-request-id']).toBeTruthy();
    }
  });

  it('T10/T23: allowed, denied and unauthenticated calls all land in the workspace audit log with caller, scope, outcome and request id', async () => {
    const auditWs = crypto.randomUUID();
    const requestIds = ['req-allowed-0001', 'req-denied-00002', 'req-anonymous-03'];
    await h.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${auditWs}/integrations`,
      headers: {
        ...bearer(await h.token({ workspaceId: auditWs, role: 'member', sub: 'member-7' })),
        'x-request-id': requestIds[0]!,
      },
    });
    await h.app.inject({
      method: 'DELETE',
      url: `/v1/workspaces/${auditWs}`,
      headers: {
        ...bearer(await h.token({ workspaceId: auditWs, role: 'member', sub: 'member-7' })),
        'x-request-id': requestIds[1]!,
      },
    });
    await h.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${auditWs}/integrations`,
      headers: { 'x-request-id': requestIds[2]! },
    });
    const rows = await h.su('audit_log').where({ workspace_id: auditWs }).orderBy('seq');
    expect(
      rows.map((r) => [
        r.request_id,
        r.actor_type,
        r.actor_id,
        r.action,
        r.scope,
        r.outcome,
        r.error_class,
        r.direction,
      ]),
    ).toEqual([
      [requestIds[0], 'user', 'member-7', 'api.integration.list', 'read', 'success', null, 'inbound'],
      [requestIds[1], 'user', 'member-7', 'api.workspace.delete', 'manage', 'denied', 'Forbidden', 'inbound'],
      [requestIds[2], 'user', 'anonymous', 'api.integration.list', 'read', 'denied', 'Unauthorized', 'inbound'],
    ]);
  });
});

describe('rate limits over the real API', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness({
      rateLimits: { caller: { capacity: 3, refillPerSecond: 0.5 }, workspace: { capacity: 5, refillPerSecond: 0.5 } },
    });
  });
  afterAll(async () => h.close());

  it('T23: a caller over its budget gets 429 problem+json with Retry-After, audited; another workspace is unaffected', async () => {
    const ws = crypto.randomUUID();
    const token = await h.token({ workspaceId: ws, role: 'member', sub: 'busy-caller' });
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof h.app.inject>> | undefined;
    for (let i = 0; i < 5; i++) {
      const response = await h.app.inject({
        method: 'GET',
        url: `/v1/workspaces/${ws}/integrations`,
        headers: bearer(token),
      });
      statuses.push(response.statusCode);
      if (response.statusCode === 429) limited = response;
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
    expect(Number(limited!.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited!.headers['content-type']).toContain('application/problem+json');
    // Workspace bucket: two more callers of the same workspace share the remaining 2 tokens.
    const other = await h.token({ workspaceId: ws, role: 'member', sub: 'other-caller' });
    const third = await h.token({ workspaceId: ws, role: 'member', sub: 'third-caller' });
    const shared = [];
    for (const t of [other, other, third])
      shared.push(
        (await h.app.inject({ method: 'GET', url: `/v1/workspaces/${ws}/integrations`, headers: bearer(t) }))
          .statusCode,
      );
    expect(shared).toEqual([200, 200, 429]);
    const elsewhere = crypto.randomUUID();
    const fresh = await h.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${elsewhere}/integrations`,
      headers: bearer(await h.token({ workspaceId: elsewhere, role: 'member', sub: 'calm-caller' })),
    });
    expect(fresh.statusCode).toBe(200);
    const audited = await h
      .su('audit_log')
      .where({ workspace_id: ws, outcome: 'failure', error_class: 'TooManyRequests' });
    expect(audited.length).toBe(3);
  });
});
