/**
 * The Temporal UI, in a real browser (headless Chromium), shows a sync run's input decoded: with
 * no extra step on a local stack (the dev server's codec endpoint and the development-only
 * loopback rule), and in the production shape (https endpoint, the UI forwarding an IdP token
 * verified against a JWKS) only for an operator. Every decode is in the operator audit log.
 *
 * Needs Chromium (Debian's `chromium`; `.ci/run` installs it): without it the test fails, naming it.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createCodecAuthorizer } from '../../api/codecAuth';
import { buildServer } from '../../api/server';
import type { Api } from '../../api/types';
import { createOperatorAuditLog } from '../../db/operatorAudit';
import { freePort } from '../../dev/processes';
import { startStack, type RunningStack } from '../../dev/stack';
import { createLogger } from '../../lib/logger';
import { EncryptionCodec } from '@trackproject/integrations-client/codec';
import { createDataConverter } from '@trackproject/integrations-client/dataConverter';
import { workflowIds } from '../../workflows/definitions';
import { integrationSearchAttributes } from '@trackproject/integrations-client/searchAttributes';
import { runtimeDb, superuserDb } from '../support/db';
import { uniqueTaskQueue } from '../support/temporal';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ISSUER = 'https://idp.test.example/';
const AUDIENCE = 'temporal-ui';
const OPERATOR_GROUP = 'temporal-operators';
const SCREENSHOTS = path.join(os.tmpdir(), 'tp-ui-codec');

jest.setTimeout(240_000);

/** A self-signed certificate for localhost: the UI forwards its token only to an https endpoint. */
function selfSignedCertificate(dir: string): { key: Buffer; cert: Buffer } {
  const keyFile = path.join(dir, 'key.pem');
  const certFile = path.join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=localhost'],
      ...['-keyout', keyFile, '-out', certFile],
    ],
    { stdio: 'ignore' },
  );
  return { key: fs.readFileSync(keyFile), cert: fs.readFileSync(certFile) };
}

/** TLS in front of the API, as an ingress terminates it in production. */
function startTlsProxy(tls: { key: Buffer; cert: Buffer }, port: number, apiPort: number): Promise<https.Server> {
  const server = https.createServer(tls, (request, response) => {
    const upstream = http.request(
      { host: '127.0.0.1', port: apiPort, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    upstream.on('error', () => response.writeHead(502).end());
    request.pipe(upstream);
  });
  return new Promise((resolve) => server.listen(port, '127.0.0.1', () => resolve(server)));
}

describe('T25: the Temporal UI shows decoded payloads to operators only (headless Chromium)', () => {
  const workDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tp-ui-codec-'));
  const keys = [crypto.randomBytes(32)];
  const db = runtimeDb('api');
  const auditReader = superuserDb();
  const ref = { workspaceId: crypto.randomUUID(), integrationId: crypto.randomUUID() };
  const closers: Array<() => Promise<unknown>> = [];
  let stack: RunningStack;
  let browser: Browser;
  let uiUrl: string;
  let httpsCodecUrl: string;
  let runPath: string;
  let signToken: (claims: Record<string, unknown>) => Promise<string>;

  beforeAll(async () => {
    if (!fs.existsSync(CHROMIUM)) {
      throw new Error(`Chromium not found at ${CHROMIUM}: apt-get install chromium (or set CHROMIUM_PATH)`);
    }
    const [temporalPort, uiPort, apiPort, tlsPort, jwksPort] = await Promise.all(
      Array.from({ length: 5 }, () => freePort()),
    );
    uiUrl = `http://localhost:${uiPort}`;
    httpsCodecUrl = `https://localhost:${tlsPort}/codec`;

    // The IdP: a signing key and its JWKS.
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' }] };
    const idp = http.createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(jwks));
    });
    await new Promise<void>((resolve) => idp.listen(jwksPort, '127.0.0.1', resolve));
    closers.push(() => new Promise((resolve) => idp.close(resolve)));
    signToken = (claims) =>
      new SignJWT(claims)
        .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt()
        .setExpirationTime('10m')
        .sign(privateKey);

    stack = await startStack({
      dataDir: workDir,
      persistent: false,
      temporal: {
        port: temporalPort,
        uiPort,
        namespace: 'default',
        codecEndpoint: `http://127.0.0.1:${apiPort}/codec`,
      },
      log: () => undefined,
    });
    closers.push(() => stack.stop());

    const api: Api = await buildServer({
      logger: createLogger({ level: 'silent', name: 'ui-codec-test' }),
      readiness: [],
      codec: {
        codec: new EncryptionCodec(keys),
        namespace: 'default',
        uiUrl,
        authorize: createCodecAuthorizer({
          uiUrl,
          localDev: true,
          oidc: {
            jwksUrl: `http://127.0.0.1:${jwksPort}/jwks.json`,
            issuer: ISSUER,
            audience: AUDIENCE,
            operatorClaim: 'groups',
            operatorValue: OPERATOR_GROUP,
          },
        }),
        audit: createOperatorAuditLog(db, crypto.randomBytes(32)),
      },
    });
    await api.listen({ host: '127.0.0.1', port: apiPort });
    closers.push(() => api.close());
    const proxy = await startTlsProxy(selfSignedCertificate(workDir), tlsPort, apiPort);
    closers.push(() => new Promise((resolve) => proxy.close(resolve)));

    // A sync run started the way the API starts it, with the service's encrypting data converter.
    const connection = await Connection.connect({ address: stack.temporalAddress! });
    closers.push(() => connection.close());
    const client = new Client({ connection, namespace: 'default', dataConverter: createDataConverter(keys) });
    const workflowId = workflowIds.sync(ref.workspaceId, ref.integrationId);
    const handle = await client.workflow.start('syncWorkflow', {
      taskQueue: uniqueTaskQueue('ui-codec'),
      workflowId,
      args: [{ ...ref, vendor: 'github', request: { reason: 'admin' } }],
      typedSearchAttributes: integrationSearchAttributes({ ...ref, vendor: 'github', process: 'sync' }),
    });
    runPath = `/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${handle.firstExecutionRunId}/history`;

    browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--ignore-certificate-errors'] });
    closers.push(() => browser.close());
    fs.mkdirSync(SCREENSHOTS, { recursive: true });
  });

  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    await Promise.all([db.destroy(), auditReader.destroy()]);
    fs.rmSync(workDir, { recursive: true, force: true });
  });

  /** Opens the run in a fresh browser context; `token`: the UI forwards it to the https endpoint, as behind an IdP. */
  async function openRun(name: string, token?: string): Promise<Page> {
    const context = await browser.newContext();
    if (token) {
      // The UI's own codec settings (what an operator sets under "Codec Server"), and the access
      // token hook the UI calls when it runs behind an IdP. A string: this code runs in the page.
      await context.addInitScript(`
        localStorage.setItem('endpoint', ${JSON.stringify(JSON.stringify(httpsCodecUrl))});
        localStorage.setItem('passAccessToken', 'true');
        localStorage.setItem('overrideRemoteCodecConfiguration', 'true');
        globalThis.AccessToken = async () => ${JSON.stringify(token)};
      `);
    }
    const page = await context.newPage();
    await page.goto(`${uiUrl}${runPath}`);
    // The input pane exists once the history has loaded; a person opens it with "Input and Results".
    await page.getByText('Input', { exact: true }).first().waitFor({ state: 'attached', timeout: 60_000 });
    const toggle = page.getByText('Input and Results').first();
    if (await toggle.isVisible()) await toggle.click();
    await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
    return page;
  }

  // Strings, not functions: they run in the page, and the test's TypeScript has no DOM types.
  const pageText = (page: Page) => page.evaluate<string>('document.body.textContent');
  /** The decoded input as the UI prints it: the workflow id holds the workspace id too, so match the JSON field. */
  const waitForDecodedInput = (page: Page) =>
    page.waitForFunction(`/"workspaceId":\\s*"${ref.workspaceId}"/.test(document.body.textContent)`, undefined, {
      timeout: 60_000,
    });
  /** `binary/encrypted` as the UI shows an undecoded payload's metadata (base64). */
  const ENCRYPTED_MARK = Buffer.from('binary/encrypted').toString('base64').replace(/=+$/, '');

  const auditRows = () =>
    auditReader('operator_audit_log').select('operator_id', 'auth_method', 'action', 'outcome') as Promise<
      Array<{ operator_id: string; auth_method: string; action: string; outcome: string }>
    >;

  it('locally, with no extra step: the run input shows the workspace id in clear; the decode is audited as the local developer', async () => {
    const page = await openRun('local-dev');
    await waitForDecodedInput(page);
    await page.screenshot({ path: path.join(SCREENSHOTS, 'local-dev-decoded.png'), fullPage: true });
    expect(await pageText(page)).not.toContain(ENCRYPTED_MARK);
    expect(await auditRows()).toContainEqual({
      operator_id: 'local-developer',
      auth_method: 'local-dev',
      action: 'codec.decode',
      outcome: 'success',
    });
    await page.context().close();
  });

  it('production shape: an IdP token without the operator group sees no plaintext (denied, audited); an operator sees the input', async () => {
    const stranger = await openRun('not-operator', await signToken({ sub: 'idp-user-17', groups: ['engineering'] }));
    // Give the UI time to call the codec and render its (failed) answer.
    await stranger.waitForTimeout(3_000);
    await stranger.screenshot({ path: path.join(SCREENSHOTS, 'not-operator-later.png'), fullPage: true });
    const strangerText = await pageText(stranger);
    expect(strangerText).toContain(ENCRYPTED_MARK);
    expect(strangerText).not.toMatch(new RegExp(`"workspaceId":\\s*"${ref.workspaceId}"`));
    expect(await auditRows()).toContainEqual(
      expect.objectContaining({ operator_id: 'idp-user-17', auth_method: 'oidc', outcome: 'denied' }),
    );
    await stranger.context().close();

    const operator = await openRun('operator', await signToken({ sub: 'idp-ops-3', groups: [OPERATOR_GROUP] }));
    await waitForDecodedInput(operator);
    expect(await auditRows()).toContainEqual(
      expect.objectContaining({
        operator_id: 'idp-ops-3',
        auth_method: 'oidc',
        action: 'codec.decode',
        outcome: 'success',
      }),
    );
    await operator.context().close();
  });
});
