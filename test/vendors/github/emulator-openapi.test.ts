/**
 * The GitHub emulator's JSON responses, for every endpoint the connector uses, validate against
 * GitHub's published OpenAPI response schemas (`@octokit/openapi`): the emulator cannot drift from
 * the real contract without this test failing.
 */
import Ajv from 'ajv';
import { startGithubHarness, type GithubHarness } from './harness';

interface OpenApi {
  paths: Record<
    string,
    Record<string, { responses: Record<string, { content?: Record<string, { schema: unknown }> }> }>
  >;
}

/** OpenAPI 3.0 `nullable: true` → JSON Schema (ajv rejects `nullable` next to `allOf`/`anyOf` without `type`). */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const { nullable, ...rest } = node as Record<string, unknown>;
  const converted = Object.fromEntries(Object.entries(rest).map(([key, value]) => [key, toJsonSchema(value)]));
  if (nullable !== true) return converted;
  if (typeof converted.type === 'string') {
    return {
      ...converted,
      type: [converted.type, 'null'],
      ...(Array.isArray(converted.enum) ? { enum: [...converted.enum, null] } : {}),
    };
  }
  return { anyOf: [converted, { type: 'null' }] };
}

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a 13 MB JSON file, loaded synchronously once
const spec = toJsonSchema(require('@octokit/openapi/generated/api.github.com.json')) as OpenApi &
  Record<string, unknown>;
// Vendor extensions (`x-github`, `example`) are not JSON Schema keywords; formats are not asserted (no ajv-formats).
const ajv = new Ajv({ strict: false, validateFormats: false, allErrors: true });
ajv.addSchema({ ...spec, $id: 'github' }, 'github');

const ENDPOINTS: Array<{ method: string; template: string; status: string }> = [
  { method: 'post', template: '/app/installations/{installation_id}/access_tokens', status: '201' },
  { method: 'get', template: '/user/installations/{installation_id}/repositories', status: '200' },
  { method: 'get', template: '/app/installations/{installation_id}', status: '200' },
  { method: 'get', template: '/installation/repositories', status: '200' },
  { method: 'get', template: '/repos/{owner}/{repo}/issues', status: '200' },
  { method: 'get', template: '/repos/{owner}/{repo}/releases', status: '200' },
  { method: 'post', template: '/repos/{owner}/{repo}/issues', status: '201' },
  { method: 'post', template: '/repos/{owner}/{repo}/issues/{issue_number}/comments', status: '201' },
  { method: 'post', template: '/repos/{owner}/{repo}/statuses/{sha}', status: '201' },
];

let harness: GithubHarness;
const bodies: Array<{ request: { method: string; path: string }; body: unknown }> = [];

beforeAll(async () => {
  harness = await startGithubHarness();
  const { control } = harness.emulator;
  control.addIssue('acme/site-a', { title: 'Seeded' });
  control.addRelease('acme/site-a', 'v1.2.0');
  // Capture the emulator's response bodies as the real Octokit receives them (Octokit requests via global fetch).
  const originalFetch = globalThis.fetch;
  globalThis.fetch = async (input, init) => {
    const response = await originalFetch(input, init);
    const text = await response.clone().text();
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    if (url.origin === harness.emulator.url && text) {
      bodies.push({
        request: { method: (init?.method ?? 'GET').toUpperCase(), path: url.pathname },
        body: JSON.parse(text),
      });
    }
    return response;
  };
  try {
    const credential = await harness.connect();
    const ctx = harness.context(credential, { repos: ['acme/site-a'] });
    for (const resource of ['repositories', 'issues', 'releases'])
      await harness.connector.fetchPage(ctx, { resource, cursor: null });
    const issue = await harness.connector.perform(ctx, 'create-issue', { repository: 'acme/site-a', title: 'Created' });
    await harness.connector.perform(ctx, 'create-comment', {
      repository: 'acme/site-a',
      issueNumber: issue.number,
      body: 'Comment',
    });
    await harness.connector.perform(ctx, 'create-status-check', {
      repository: 'acme/site-a',
      sha: 'b'.repeat(40),
      state: 'pending',
    });
  } finally {
    globalThis.fetch = originalFetch;
  }
});

afterAll(async () => {
  await harness.emulator.stop();
});

function matches(template: string, path: string): boolean {
  return new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`).test(path);
}

test.each(ENDPOINTS)(
  'emulator $method $template ($status) matches GitHub’s OpenAPI schema',
  ({ method, template, status }) => {
    const captured = bodies.filter(
      (item) => item.request.method === method.toUpperCase() && matches(template, item.request.path),
    );
    expect(captured.length).toBeGreaterThan(0);
    const pointer = `github#/paths/${template.replace(/~/g, '~0').replace(/\//g, '~1')}/${method}/responses/${status}/content/application~1json/schema`;
    const validate = ajv.getSchema(pointer);
    expect(validate).toBeDefined();
    for (const { body } of captured) {
      const valid = validate!(body);
      expect(valid ? [] : validate!.errors?.slice(0, 5)).toEqual([]);
    }
  },
);

test('the schema check is not vacuous: a malformed issue fails it', () => {
  const validate = ajv.getSchema('github#/components/schemas/issue')!;
  const issue = bodies.find(
    (item) => item.request.method === 'POST' && matches('/repos/{owner}/{repo}/issues', item.request.path),
  )!.body as Record<string, unknown>;
  expect(validate(issue)).toBe(true);
  expect(validate({ ...issue, number: 'seven' })).toBe(false);
  expect(validate({ ...issue, updated_at: undefined })).toBe(false);
});
