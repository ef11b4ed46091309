/**
 * Schema-driven fuzz run over every operation of the served `/openapi.json` (issue #18): requests
 * are generated from each operation's own parameter and body schemas (valid values, boundaries
 * and invalid ones), sent as admin, member and service callers, as a caller of another workspace,
 * with expired, forged and malformed tokens and with none. Every answer must be below 500, its
 * status and content type declared for that operation, its body valid against the declared schema,
 * and every error an RFC 9457 problem. Failures are collected, so one run shows all of them.
 */
import crypto from 'node:crypto';
import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { mintToken } from '../../api/auth';
import {
  AUDIENCE,
  bearer,
  createHarness,
  ISSUER,
  seedIntegration,
  seedWebhookEndpoint,
  type Harness,
} from './support/harness';

interface Schema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  pattern?: string;
  format?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: boolean | Schema;
  patternProperties?: Record<string, Schema>;
  minProperties?: number;
  maxProperties?: number;
  items?: Schema;
  minItems?: number;
  maxItems?: number;
  uniqueItems?: boolean;
}

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema: Schema;
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
interface Operation {
  path: string;
  method: Method;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
  responses: Record<string, { content?: Record<string, { schema: object }> }>;
}

interface GeneratedRequest {
  method: string;
  url: string;
  headers: Record<string, string>;
  payload?: string | Buffer;
}

const METHODS: Method[] = ['get', 'post', 'put', 'patch', 'delete'];
const UNLIMITED = { capacity: 1e9, refillPerSecond: 1e9 };
/** About 2,000 requests in all: 20-40 s on a busy machine. */
const REQUESTS_PER_OPERATION = 90;
const SEED = Number(process.env.FUZZ_SEED ?? Date.now() % 2 ** 31);
const PROBLEM_JSON = 'application/problem+json';

/** Values that broke parsers, formats and numeric ranges before (issue #18), offered to every field. */
const HOSTILE_STRINGS = [
  '',
  ' ',
  'null',
  '-1',
  '0',
  '..',
  '%00',
  '\u0000',
  '😀',
  'a'.repeat(5000),
  '-'.repeat(36),
  'g'.repeat(36),
  '0123456789abcdef0123456789abcdef0123',
  'urn:uuid:6ba7b810-9dad-11d1-80b4-00c04fd430c8',
  '{6ba7b810-9dad-11d1-80b4-00c04fd430c8}',
  '6ba7b8109dad11d180b400c04fd430c8',
  '9223372036854775808',
  '9999999999999999999',
  '2016-12-31T23:59:60Z',
  '2020-02-30T00:00:00Z',
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999999999+23:59',
  '1e9',
  'https://x/%',
];

const typesOf = (schema: Schema): string[] =>
  schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];

/** Values the schema accepts (as far as the generator knows the keywords). */
function validValue(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  if (schema.const !== undefined) return fc.constant(schema.const);
  if (schema.enum) return fc.constantFrom(...schema.enum);
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return fc.oneof(...union.map((member) => validValue(member, depth)));
  const [type] = typesOf(schema);
  switch (type) {
    case 'string':
      return validString(schema);
    case 'integer':
      return fc.integer({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6 });
    case 'number':
      return fc.double({ min: schema.minimum ?? -1e6, max: schema.maximum ?? 1e6, noNaN: true });
    case 'boolean':
      return fc.boolean();
    case 'null':
      return fc.constant(null);
    case 'array': {
      const items = schema.items ? validValue(schema.items, depth + 1) : fc.string();
      const bounds = { minLength: schema.minItems ?? 0, maxLength: Math.min(schema.maxItems ?? 4, 4) };
      return schema.uniqueItems
        ? fc.uniqueArray(items, { ...bounds, selector: (v) => JSON.stringify(v) })
        : fc.array(items, bounds);
    }
    case 'object':
      return validObject(schema, depth);
    default:
      return fc.jsonValue({ maxDepth: 2 });
  }
}

function validString(schema: Schema): fc.Arbitrary<string> {
  const min = schema.minLength ?? 0;
  const max = schema.maxLength ?? 64;
  const fits = (s: string) => s.length >= min && s.length <= max;
  if (schema.pattern) return fc.stringMatching(new RegExp(schema.pattern)).filter(fits);
  switch (schema.format) {
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc
        .date({ min: new Date('1970-01-01'), max: new Date('2100-01-01'), noInvalidDate: true })
        .map((d) => d.toISOString());
    case 'uri':
      return fc.webUrl().filter(fits);
    default:
      return fc.string({ minLength: min, maxLength: Math.min(max, 64) });
  }
}

function validObject(schema: Schema, depth: number): fc.Arbitrary<unknown> {
  const properties = schema.properties ?? {};
  const named = fc.record(
    Object.fromEntries(Object.entries(properties).map(([key, value]) => [key, validValue(value, depth + 1)])),
    { requiredKeys: schema.required ?? [] },
  );
  const patterns = Object.entries(schema.patternProperties ?? {});
  if (patterns.length === 0 || depth > 3) return named;
  const [keyPattern, valueSchema] = patterns[0]!;
  const extra = fc.dictionary(fc.stringMatching(new RegExp(keyPattern)), validValue(valueSchema, depth + 1), {
    minKeys: schema.minProperties ?? 0,
    maxKeys: Math.min(schema.maxProperties ?? 3, 3),
  });
  return fc.tuple(named, extra).map(([a, b]) => ({ ...b, ...a }));
}

/** Values at or past the schema's edges, or of the wrong type. */
function invalidValue(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  const wrongType = fc.constantFrom<unknown>(42, -1, 1.5, true, null, {}, [], 'text');
  const [type] = typesOf(schema);
  const edges: Array<fc.Arbitrary<unknown>> = [wrongType];
  if (type === 'string' || schema.format || schema.pattern) {
    if (schema.maxLength !== undefined) edges.push(fc.constant('a'.repeat(schema.maxLength + 1)));
    if (schema.minLength) edges.push(fc.constant('a'.repeat(schema.minLength - 1)));
    // A valid value changed by one character: the edges of patterns and formats.
    edges.push(
      fc
        .tuple(validString(schema), fc.nat(), fc.constantFrom('-', '.', 'A', 'z', '9', ':', ' ', '/', '%'))
        .map(([s, at, c]) => (s.length === 0 ? c : s.slice(0, at % s.length) + c + s.slice((at % s.length) + 1))),
      validString(schema).map((s) => s.toUpperCase()),
    );
  }
  if (type === 'integer' || type === 'number') {
    if (schema.minimum !== undefined) edges.push(fc.constant(schema.minimum - 1));
    if (schema.maximum !== undefined) edges.push(fc.constant(schema.maximum + 1));
    edges.push(fc.constantFrom(Number.MAX_SAFE_INTEGER + 2, -0, 1e308));
  }
  if (type === 'array') {
    const items = schema.items ?? {};
    edges.push(
      fc.array(depth > 3 ? wrongType : fc.oneof(validValue(items, depth + 1), invalidValue(items, depth + 1)), {
        maxLength: 4,
      }),
    );
    if (schema.maxItems !== undefined && schema.maxItems < 1000)
      edges.push(fc.constant(Array.from({ length: schema.maxItems + 1 }, (_, i) => `item-${i}`)));
    if (schema.uniqueItems) edges.push(validValue(items, depth + 1).map((v) => [v, v]));
  }
  if (type === 'object' && depth <= 3) {
    const keys = Object.keys(schema.properties ?? {});
    edges.push(
      // One field invalid, the others valid; a required field dropped; a field nobody declared.
      fc
        .tuple(validObject(schema, depth), fc.constantFrom(...(keys.length ? keys : ['x'])))
        .chain(([base, key]) =>
          invalidValue(schema.properties?.[key] ?? {}, depth + 1).map((bad) => ({ ...(base as object), [key]: bad })),
        ),
      validObject(schema, depth).map((base) => {
        const copy = { ...(base as Record<string, unknown>) };
        delete copy[schema.required?.[0] ?? ''];
        return copy;
      }),
      validObject(schema, depth).map((base) => ({ ...(base as object), 'not-a-field': 1 })),
    );
  }
  return fc.oneof(...edges);
}

const anyValue = (schema: Schema) =>
  fc.oneof(
    { arbitrary: validValue(schema), weight: 3 },
    { arbitrary: invalidValue(schema), weight: 2 },
    { arbitrary: fc.constantFrom<unknown>(...HOSTILE_STRINGS), weight: 1 },
  );

const asText = (value: unknown) => (typeof value === 'string' ? value : JSON.stringify(value));
/** `.` and `..` segments (even percent-encoded) are resolved away before routing (RFC 3986 §5.2.4): one more dot keeps them. */
const pathSegment = (value: string) => encodeURIComponent(/^\.{1,2}$/.test(value) ? `${value}.` : value);

describe('schema-driven fuzz run over every route', () => {
  let h: Harness;
  let operations: Operation[];
  const ws = crypto.randomUUID();
  let integrationId: string;
  let endpointId: string;
  let tokens: Record<string, string | undefined>;
  const ajv = new Ajv({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<object, ValidateFunction>();

  beforeAll(async () => {
    h = await createHarness({ rateLimits: { caller: UNLIMITED, workspace: UNLIMITED, anonymous: UNLIMITED } });
    integrationId = await seedIntegration(h.su, { workspaceId: ws, vendor: 'github' });
    ({ endpointId } = await seedWebhookEndpoint(h, ws, 'microsoft365'));
    const other = crypto.randomUUID();
    tokens = {
      admin: await h.token({ workspaceId: ws, role: 'admin', sub: 'fuzz-admin' }),
      member: await h.token({ workspaceId: ws, role: 'member', sub: 'fuzz-member' }),
      service: await h.token({ workspaceId: ws, role: 'service', sub: 'fuzz-service' }),
      upperCaseWorkspace: await h.token({ workspaceId: ws.toUpperCase(), role: 'admin', sub: 'fuzz-upper' }),
      otherWorkspace: await h.token({ workspaceId: other, role: 'admin', sub: 'fuzz-other' }),
      expired: await h.token({ workspaceId: ws, role: 'admin', expiresIn: Math.floor(Date.now() / 1000) - 60 }),
      forged: await mintToken({
        secret: crypto.randomBytes(48),
        issuer: ISSUER,
        audience: AUDIENCE,
        sub: 'forger',
        workspaceId: ws,
        role: 'admin',
      }),
      garbage: 'not.a.jwt',
      none: undefined,
    };
    const spec = (await h.app.inject('/openapi.json')).json() as {
      paths: Record<string, Record<string, Omit<Operation, 'path' | 'method'>>>;
    };
    operations = Object.entries(spec.paths).flatMap(([path, item]) =>
      METHODS.filter((method) => item[method]).map((method) => ({ path, method, ...item[method]! })),
    );
  });
  afterAll(() => h.close());

  /** Path values: mostly ones that exist here (so requests get past the lookups), else generated from the schema. */
  const pathValue = (parameter: Parameter): fc.Arbitrary<unknown> => {
    const known: Record<string, string[]> = {
      workspaceId: [ws, ws.toUpperCase()],
      integrationId: [integrationId, integrationId.toUpperCase()],
      endpointId: [endpointId],
      vendor: ['github', 'microsoft365', 'jira', 'slack', 'okta', 'sap'],
    };
    const mine = known[parameter.name];
    return mine
      ? fc.oneof(
          { arbitrary: fc.constantFrom(...mine), weight: 3 },
          { arbitrary: anyValue(parameter.schema), weight: 1 },
        )
      : anyValue(parameter.schema);
  };

  const requestFor = (op: Operation): fc.Arbitrary<GeneratedRequest> => {
    const parameters = op.parameters ?? [];
    const ofKind = (kind: Parameter['in']) => parameters.filter((p) => p.in === kind);
    const optionalValues = (list: Parameter[]) =>
      fc.record(Object.fromEntries(list.map((p) => [p.name, anyValue(p.schema)])), {
        requiredKeys: list.filter((p) => p.required).map((p) => p.name),
      });
    const bodySchema = op.requestBody?.content['application/json']?.schema;
    const body = fc.oneof(
      {
        arbitrary: bodySchema ? anyValue(bodySchema).map((v) => JSON.stringify(v)) : fc.constant(undefined),
        weight: 4,
      },
      { arbitrary: fc.constant(undefined), weight: 1 },
      { arbitrary: fc.constantFrom('{', 'null', '[]', '"x"', '{"a":1}'.repeat(3)), weight: 1 },
      { arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)), weight: 1 },
    );
    const contentType = fc.constantFrom(
      'application/json',
      'application/json',
      'application/json; charset=utf-8',
      'text/plain',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      undefined,
    );
    return fc
      .record({
        path: fc.tuple(...ofKind('path').map(pathValue)),
        query: optionalValues(ofKind('query')),
        headers: optionalValues(ofKind('header')),
        body,
        contentType,
        token: fc.constantFrom(...Object.keys(tokens)),
      })
      .map(({ path, query, headers, body: payload, contentType: type, token }) => {
        let i = 0;
        const url = op.path.replace(/\{[^}]+\}/g, () => pathSegment(asText(path[i++])));
        const search = new URLSearchParams(
          Object.entries(query as Record<string, unknown>).map(([k, v]): [string, string] => [k, asText(v)]),
        ).toString();
        const sent: Record<string, string> = Object.fromEntries(
          Object.entries(headers as Record<string, unknown>).map(([k, v]) => [
            k,
            asText(v).replace(/[^\x20-\x7e]/g, ''),
          ]),
        );
        const bearerToken = tokens[token];
        const method = op.method.toUpperCase();
        const withBody = payload !== undefined && method !== 'GET';
        return {
          method,
          url: search ? `${url}?${search}` : url,
          headers: {
            ...sent,
            ...(bearerToken ? bearer(bearerToken) : {}),
            ...(withBody && type ? { 'content-type': type } : {}),
          },
          ...(withBody ? { payload } : {}),
        };
      });
  };

  /** What is wrong with the answer, judged against the operation's own responses in the document. */
  const violations = (
    op: Operation,
    response: { statusCode: number; headers: Record<string, unknown>; body: string },
  ): string[] => {
    const found: string[] = [];
    const status = response.statusCode;
    if (status >= 500) found.push(`server error ${status}: ${response.body.slice(0, 300)}`);
    const declared = op.responses[String(status)];
    if (!declared) {
      found.push(`status ${status} not declared`);
      return found;
    }
    const mediaType = String(response.headers['content-type'] ?? '')
      .split(';')[0]!
      .trim();
    if (response.body.length > 0 && !(declared.content && mediaType in declared.content)) {
      found.push(`status ${status}: content type "${mediaType}" not declared (${Object.keys(declared.content ?? {})})`);
    }
    if (status >= 400) {
      if (mediaType !== PROBLEM_JSON) found.push(`status ${status}: error sent as "${mediaType}"`);
      const problem = JSON.parse(response.body) as Record<string, unknown>;
      if (typeof problem.type !== 'string' || typeof problem.title !== 'string' || problem.status !== status)
        found.push(`status ${status}: not an RFC 9457 problem`);
    }
    const schema = declared.content?.[mediaType]?.schema;
    if (schema && /json/.test(mediaType)) {
      let validate = validators.get(schema);
      if (!validate) validators.set(schema, (validate = ajv.compile(schema)));
      if (!validate(JSON.parse(response.body))) found.push(`status ${status}: body ${ajv.errorsText(validate.errors)}`);
    }
    return found;
  };

  it('T21: verification challenges are answered in a content type the document declares for them', async () => {
    const op = operations.find(
      (o) => o.method === 'get' && o.path === '/v1/webhooks/{vendor}/{workspaceId}/{endpointId}',
    )!;
    const response = await h.app.inject({
      method: 'GET',
      url: `/v1/webhooks/microsoft365/${ws}/${endpointId}?validationToken=token-123`,
    });
    expect(response.statusCode).toBe(200);
    expect(response.body).toBe('token-123');
    expect(violations(op, response)).toEqual([]);
  });

  it('T23: generated valid, boundary and invalid requests on every operation, with every kind of caller, get 0 server errors and only declared statuses and content types', async () => {
    const failures = new Map<string, string>();
    let sent = 0;
    await h.withWorker(async () => {
      for (const [index, op] of operations.entries()) {
        const requests = fc.sample(requestFor(op), { numRuns: REQUESTS_PER_OPERATION, seed: SEED + index });
        for (const request of requests) {
          const response = await h.app.inject(request);
          sent += 1;
          for (const violation of violations(op, response)) {
            const key = `${op.method.toUpperCase()} ${op.path}: ${violation.split(':')[0]}`;
            if (!failures.has(key)) failures.set(key, `${violation} ← ${request.method} ${request.url.slice(0, 200)}`);
          }
        }
      }
    });
    expect({ seed: SEED, failures: [...failures.values()] }).toEqual({ seed: SEED, failures: [] });
    expect(operations.length).toBeGreaterThan(15);
    expect(sent).toBe(operations.length * REQUESTS_PER_OPERATION);
  }, 120_000);
});
