/**
 * `/openapi.json` is the contract: every operation is covered by the authorisation matrix, hostile
 * input generated from it never produces a 5xx or a non-problem error, and real responses match
 * the documented response schemas.
 */
import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { workflowIds } from '../../workflows/definitions';
import { bearer, createHarness, seedIntegration, type Harness } from './support/harness';
import { ROUTES } from './support/routes';

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
interface Operation {
  path: string;
  method: Method;
  security?: unknown[];
  parameters?: Array<{ in: string; name: string }>;
  requestBody?: { content: Record<string, { schema: object }> };
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}

const METHODS: Method[] = ['get', 'post', 'put', 'patch', 'delete'];
/** Generous: the fuzzer is one caller sending hundreds of requests a second. */
const UNLIMITED = { capacity: 1e9, refillPerSecond: 1e9 };
const NO_PRACTICAL_LIMIT = { caller: UNLIMITED, workspace: UNLIMITED, anonymous: UNLIMITED };
const RUNS_PER_OPERATION = 40;

describe('OpenAPI contract', () => {
  let h: Harness;
  let operations: Operation[];
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<object, ValidateFunction>();
  const ws = crypto.randomUUID();
  let integrationId: string;
  let token: string;
  const checked = { responses: 0, against: 0 };

  /** The operation serving `method url`, matched on the OpenAPI path template. */
  const operationFor = (method: string, url: string): Operation | undefined => {
    const path = url.split('?')[0]!;
    return operations.find(
      (op) =>
        op.method === method.toLowerCase() && new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '[^/]*')}$`).test(path),
    );
  };

  /** Every response obeys the error contract and, where documented, its response schema. */
  const assertContract = (
    method: string,
    url: string,
    response: { statusCode: number; headers: Record<string, unknown>; body: string },
  ) => {
    checked.responses += 1;
    expect({ url, status: response.statusCode }).toEqual({ url, status: expect.any(Number) });
    if (response.statusCode >= 500) throw new Error(`${method} ${url} → ${response.statusCode}: ${response.body}`);
    expect(response.headers['x-request-id']).toBeTruthy();
    const contentType = String(response.headers['content-type'] ?? '');
    if (response.statusCode >= 400) {
      expect({ url, contentType }).toEqual({ url, contentType: expect.stringContaining('application/problem+json') });
      const problem = JSON.parse(response.body);
      expect(problem).toMatchObject({
        type: expect.any(String),
        title: expect.any(String),
        status: response.statusCode,
      });
    }
    const documented = operationFor(method, url)?.responses[String(response.statusCode)]?.content;
    const mediaType = contentType.split(';')[0]!.trim();
    // The document names the media type of every answer it describes (errors: application/problem+json).
    if (documented && response.body.length > 0)
      expect({ url, status: response.statusCode, mediaType, declared: mediaType in documented }).toEqual({
        url,
        status: response.statusCode,
        mediaType,
        declared: true,
      });
    const schema = documented?.[mediaType]?.schema;
    if (!schema || !/json/.test(contentType)) return;
    let validate = validators.get(schema);
    if (!validate) validators.set(schema, (validate = ajv.compile(schema)));
    checked.against += 1;
    if (!validate(JSON.parse(response.body))) {
      throw new Error(
        `${method} ${url} → ${response.statusCode} does not match its documented schema: ${ajv.errorsText(validate.errors)}\n${response.body}`,
      );
    }
  };

  const send = async (request: {
    method: string;
    url: string;
    headers?: Record<string, string>;
    payload?: string | object | Buffer;
  }) => {
    const response = await h.app.inject(request as never);
    assertContract(request.method, request.url, response);
    return response;
  };

  beforeAll(async () => {
    h = await createHarness({ rateLimits: NO_PRACTICAL_LIMIT });
    token = await h.token({ workspaceId: ws, role: 'admin', sub: 'fuzzer' });
    integrationId = await seedIntegration(h.su, { workspaceId: ws, vendor: 'github' });
    const spec = (await h.app.inject('/openapi.json')).json() as {
      openapi: string;
      paths: Record<string, Record<string, Omit<Operation, 'path' | 'method'>>>;
    };
    expect(spec.openapi).toBe('3.1.0');
    operations = Object.entries(spec.paths).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => ({ path, method, ...item[method]! })),
    );
  });
  afterAll(() => h.close());

  it('T23: every bearer-protected operation is in the authorisation matrix, and every operation documents its errors', () => {
    const protectedOps = operations.filter((op) => !(Array.isArray(op.security) && op.security.length === 0));
    const matrix = new Set(
      ROUTES.map((r) => `${r.method.toLowerCase()} ${r.url('{workspaceId}', '{integrationId}', '{actionId}')}`),
    );
    expect(protectedOps.map((op) => `${op.method} ${op.path}`).sort()).toEqual([...matrix].sort());
    for (const op of operations.filter((o) => o.path.startsWith('/v1/'))) {
      for (const status of ['400', '401', '403', '429']) {
        expect({ op: `${op.method} ${op.path}`, status, documented: Boolean(op.responses[status]) }).toEqual({
          op: `${op.method} ${op.path}`,
          status,
          documented: true,
        });
      }
    }
  });

  it('T23: generated invalid and random inputs on every operation produce 0 responses ≥ 500, and every error is problem+json', async () => {
    const pathValue = fc.oneof(
      fc.constant(ws),
      fc.constant(integrationId),
      fc.uuid(),
      fc.string({ maxLength: 60 }),
      fc.constantFrom('..', '%00', '😀', ' ', 'a'.repeat(400), 'github', 'sharepoint', '-1', 'null'),
    );
    const query = fc.dictionary(
      fc.constantFrom('state', 'code', 'error', 'cursor', 'limit', 'outcome', 'since', 'validationToken', 'x'),
      fc.oneof(
        fc.string({ maxLength: 80 }),
        fc.constantFrom('0', '-1', '1e9', '201', 'success', '2020-13-45', '9'.repeat(30)),
      ),
      { maxKeys: 4 },
    );
    const body = fc.oneof(
      fc.constant(undefined),
      fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
      fc
        .record(
          {
            vendor: fc.oneof(fc.string(), fc.constantFrom('github', 'sharepoint', 'sap'), fc.integer()),
            scopes: fc.array(fc.oneof(fc.string(), fc.integer()), { maxLength: 60 }),
            controls: fc.dictionary(fc.string(), fc.array(fc.string())),
            credential: fc.dictionary(fc.string(), fc.oneof(fc.string(), fc.integer())),
            redirectUri: fc.oneof(fc.webUrl(), fc.string()),
          },
          { requiredKeys: [] },
        )
        .map((v) => JSON.stringify(v)),
      fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
      fc.string({ maxLength: 200 }),
    );
    const contentType = fc.constantFrom(
      'application/json',
      'text/plain',
      'application/x-www-form-urlencoded',
      'application/octet-stream',
      'multipart/form-data; boundary=x',
      undefined,
    );

    for (const op of operations) {
      await fc.assert(
        fc.asyncProperty(
          fc.array(pathValue, { minLength: 3, maxLength: 3 }),
          query,
          body,
          contentType,
          fc.boolean(),
          async (values, q, payload, type, authenticated) => {
            let i = 0;
            const path = op.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(values[i++]!));
            const search = new URLSearchParams(q as Record<string, string>).toString();
            const headers: Record<string, string> = {
              ...(authenticated ? bearer(token) : {}),
              ...(type ? { 'content-type': type } : {}),
            };
            const method = op.method.toUpperCase();
            const withBody = payload !== undefined && method !== 'GET';
            await send({ method, url: search ? `${path}?${search}` : path, headers, ...(withBody ? { payload } : {}) });
          },
        ),
        { numRuns: RUNS_PER_OPERATION },
      );
    }
    expect(checked.responses).toBeGreaterThanOrEqual(operations.length * RUNS_PER_OPERATION);
  }, 180_000);

  it('every error response is declared as application/problem+json; 431 on every operation and 414 on every parametrised one', () => {
    for (const op of operations.filter((o) => o.path.startsWith('/v1/'))) {
      const errors = Object.entries(op.responses).filter(([status]) => Number(status) >= 400);
      for (const [status, response] of errors)
        expect({ op: `${op.method} ${op.path}`, status, types: Object.keys(response.content ?? {}) }).toEqual({
          op: `${op.method} ${op.path}`,
          status,
          types: ['application/problem+json'],
        });
      expect(op.responses['431']).toBeDefined();
      if (op.path.includes('{')) expect(op.responses['414']).toBeDefined();
    }
  });

  it('headers too large (431) and a path parameter too long (414) are answered as problems', async () => {
    const tooLong = await send({
      method: 'GET',
      url: `/v1/workspaces/${'a'.repeat(300)}/audit`,
      headers: bearer(token),
    });
    expect(tooLong.statusCode).toBe(414);
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = h.app.server.address() as AddressInfo;
    const response = await new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const request = http.get(
        { host: '127.0.0.1', port, path: '/v1/vendors', headers: { 'x-filler': 'x'.repeat(64 * 1024) } },
        (res) => {
          let body = '';
          res.on('data', (chunk) => (body += chunk));
          res.on('end', () => resolve({ status: res.statusCode!, type: String(res.headers['content-type']), body }));
        },
      );
      request.on('error', reject);
    });
    expect(response).toMatchObject({ status: 431, type: 'application/problem+json' });
    expect(JSON.parse(response.body)).toMatchObject({ status: 431, title: 'Request Header Fields Too Large' });
  });

  it('schema-shaped but wrong-typed fields on every body are 400 problems that list each invalid field', async () => {
    for (const op of operations.filter(
      (o) => o.requestBody && o.path.includes('{workspaceId}') && !o.path.startsWith('/v1/webhooks'),
    )) {
      const schema = op.requestBody!.content['application/json']!.schema as { properties?: Record<string, unknown> };
      const fields = Object.keys(schema.properties ?? {});
      if (fields.length === 0) continue;
      const url = op.path.replace('{workspaceId}', ws).replace('{integrationId}', integrationId);
      const response = await send({
        method: op.method.toUpperCase(),
        url,
        headers: bearer(token),
        payload: Object.fromEntries(fields.map((f) => [f, { wrong: [true] }])),
      });
      expect(response.statusCode).toBe(400);
      const pointers = (response.json().errors as Array<{ pointer: string }>).map((e) => e.pointer);
      for (const field of fields) expect(pointers.some((p) => p.startsWith(`/body/${field}`))).toBe(true);
    }
  });

  it('successful responses match their documented schemas (vendors, connect, status, list, sync, progress, audit, disconnect, delete)', async () => {
    const headers = bearer(token);
    const lifecycleId = workflowIds.lifecycle(ws, integrationId);
    await h.services.temporal.client.workflow.start('integrationLifecycleWorkflow', {
      taskQueue: h.taskQueue,
      workflowId: lifecycleId,
      args: [{ workspaceId: ws, integrationId, vendor: 'github' }],
    });
    await h.withWorker(async () => {
      const base = `/v1/workspaces/${ws}/integrations`;
      const ok = async (request: Parameters<typeof send>[0], status: number) =>
        expect((await send({ headers, ...request })).statusCode).toBe(status);
      await ok({ method: 'GET', url: '/v1/vendors' }, 200);
      await ok({ method: 'POST', url: base, payload: { vendor: 'github', controls: { repos: ['org/a'] } } }, 202);
      await ok(
        { method: 'POST', url: base, payload: { vendor: 'sap', credential: { user: 'u', password: 'p' } } },
        202,
      );
      await ok({ method: 'GET', url: `${base}/${integrationId}` }, 200);
      await ok({ method: 'GET', url: base }, 200);
      await ok({ method: 'POST', url: `${base}/${integrationId}/sync` }, 202);
      await ok({ method: 'GET', url: `${base}/${integrationId}/sync` }, 200);
      await ok({ method: 'PATCH', url: `${base}/${integrationId}/scopes`, payload: { scopes: ['repo:read'] } }, 200);
      await ok({ method: 'POST', url: `${base}/${integrationId}/rotate` }, 202);
      await ok({ method: 'GET', url: `/v1/workspaces/${ws}/audit?limit=5` }, 200);
      await ok({ method: 'DELETE', url: `${base}/${integrationId}` }, 202);
      await ok({ method: 'DELETE', url: `/v1/workspaces/${ws}` }, 202);
    });
    expect(checked.against).toBeGreaterThan(0);
  });
});
