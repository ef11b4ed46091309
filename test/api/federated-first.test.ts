/**
 * T9: every built row whose vendor offers OAuth or federated sign-in connects through it, and the
 * connect input refuses an API key, password or client secret submitted for it (422 naming the row,
 * nothing stored, no workflow started). The rows come from T9's `Rows:` line in docs/promises.md;
 * planned rows cannot be connected at all and stay uncovered in the trust report until built.
 */
import crypto from 'node:crypto';
import { BUILT_FAMILIES, CATALOG } from '../../activities/vendors/catalog';
import { readPromises } from '../../dev/trustDocs';
import { bearer, createHarness, TEST_VENDORS, type Harness } from './support/harness';

const T9_ROWS = readPromises().find((promise) => promise.id === 'T9')!.rows!;
const BUILT_T9_ROWS = BUILT_FAMILIES.flatMap((family) => CATALOG[family].rows)
  .map((row) => row.id)
  .filter((id) => T9_ROWS.includes(id));

/** What an admin might paste instead of signing in: each a long-lived secret. */
const SUBMITTED_SECRETS = [
  { apiKey: `key-${crypto.randomUUID()}` },
  { username: 'admin@customer.example', password: `pw-${crypto.randomUUID()}` },
  { clientId: 'customer-app', clientSecret: `cs-${crypto.randomUUID()}` },
];

describe('T9 federated identity first (connect input)', () => {
  let h: Harness;
  const ws = crypto.randomUUID();
  let admin: Record<string, string>;

  beforeAll(async () => {
    h = await createHarness();
    admin = bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'admin-1' }));
  });
  afterAll(() => h.close());

  it('T9 lists every row whose vendor offers OAuth or federated sign-in, and no service-account row', () => {
    const signInRows = [...TEST_VENDORS.values()]
      .filter((row) => row.descriptor.authKind !== 'service-account')
      .map((row) => row.descriptor.id);
    expect([...T9_ROWS].sort()).toEqual([...signInRows].sort());
    expect(BUILT_T9_ROWS.length).toBeGreaterThan(0);
  });

  test.each(BUILT_T9_ROWS)(
    'T9 [%s]: the row connects through OAuth or federated sign-in; a submitted API key, password or client secret is refused with 422 naming the row',
    async (vendor) => {
      const { descriptor, availability } = TEST_VENDORS.get(vendor)!;
      expect(availability).toBe('available');
      expect(['oauth2-pkce', 'oauth2-state', 'github-app', 'federated-identity']).toContain(descriptor.authKind);
      for (const credential of SUBMITTED_SECRETS) {
        const response = await h.app.inject({
          method: 'POST',
          url: `/v1/workspaces/${ws}/integrations`,
          headers: admin,
          payload: { vendor, credential },
        });
        expect(response.statusCode).toBe(422);
        expect(response.headers['content-type']).toContain('application/problem+json');
        const problem = response.json();
        expect(problem.detail).toContain(`(${vendor})`);
        expect(problem.detail).toContain('T9');
        expect(problem.errors).toEqual([{ pointer: '/body/credential', detail: `not allowed for ${vendor}` }]);
        // The secret is never echoed back.
        for (const value of Object.values(credential)) expect(response.body).not.toContain(value);
      }
      // Nothing was stored and no connect started.
      expect(await h.su('integrations').where({ workspace_id: ws })).toHaveLength(0);
      expect(await h.su('secrets').where({ workspace_id: ws })).toHaveLength(0);
    },
  );
});
