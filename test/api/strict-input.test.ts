/**
 * Input that passed validation and ended in a 500 (issue #18, item 5): ids, OAuth states, cursors and
 * timestamps are held to strict formats, so a bad one is a 400 problem; a workspace id in upper case
 * is the same workspace as in lower case, everywhere.
 */
import crypto from 'node:crypto';
import { workflowIds } from '../../workflows/definitions';
import { WorkspaceIdKey } from '@trackproject/integrations-client/searchAttributes';
import { bearer, createHarness, seedWebhookEndpoint, type Harness } from './support/harness';

const PROBLEM_JSON = 'application/problem+json';

describe('strict input formats', () => {
  let h: Harness;
  const ws = crypto.randomUUID();
  let admin: Record<string, string>;

  beforeAll(async () => {
    h = await createHarness();
    admin = bearer(await h.token({ workspaceId: ws, role: 'admin', sub: 'strict-admin' }));
  });
  afterAll(() => h.close());

  const expectBadRequest = (response: { statusCode: number; headers: Record<string, unknown>; body: string }) => {
    expect({ status: response.statusCode, type: response.headers['content-type'] }).toEqual({
      status: 400,
      type: expect.stringContaining(PROBLEM_JSON),
    });
  };

  it('T21: webhook paths take canonical UUIDs only: urn:uuid:, braced and dash-less forms are 400, not a server error', async () => {
    const endpoint = await seedWebhookEndpoint(h, ws, 'microsoft365');
    for (const url of [
      `/v1/webhooks/microsoft365/urn:uuid:${ws}/${endpoint.endpointId}`,
      `/v1/webhooks/microsoft365/${ws}/urn:uuid:${endpoint.endpointId}`,
      `/v1/webhooks/microsoft365/${encodeURIComponent(`{${ws}}`)}/${endpoint.endpointId}`,
      `/v1/webhooks/microsoft365/${ws.replace(/-/g, '')}/${endpoint.endpointId}`,
    ]) {
      expectBadRequest(await h.app.inject({ method: 'POST', url, payload: { value: [] } }));
      expectBadRequest(await h.app.inject({ method: 'GET', url: `${url}?validationToken=x` }));
    }
  });

  it('OAuth states of 36 dashes or of hex that is no UUID are 400 problems, not server errors', async () => {
    const tail = 'A'.repeat(43);
    for (const id of ['-'.repeat(36), 'f'.repeat(36), '0123456789abcdef-0123456789abcdef-01']) {
      const state = `${id}.${id}.${tail}`;
      const response = await h.app.inject({
        method: 'GET',
        url: `/v1/oauth/callback/github?${new URLSearchParams({ state, code: 'c' })}`,
      });
      expectBadRequest(response);
    }
  });

  it('T10: an audit cursor beyond bigint and timestamps that do not parse (a leap second, 30 February) are 400 problems', async () => {
    const audit = `/v1/workspaces/${ws}/audit`;
    for (const query of [
      'cursor=9223372036854775808',
      'cursor=9999999999999999999',
      'since=2016-12-31T23:59:60Z',
      'until=2016-12-31T23:59:60Z',
      'since=2021-02-30T00:00:00Z',
    ]) {
      expectBadRequest(await h.app.inject({ method: 'GET', url: `${audit}?${query}`, headers: admin }));
    }
    const largest = await h.app.inject({ method: 'GET', url: `${audit}?cursor=999999999999999999`, headers: admin });
    expect(largest.statusCode).toBe(200);
  });

  it('T17: an upper-case workspace path is the same workspace: same integration under one Idempotency-Key, lower-case run ids and WorkspaceId search attribute', async () => {
    await h.withWorker(async () => {
      const connect = (workspace: string) =>
        h.app.inject({
          method: 'POST',
          url: `/v1/workspaces/${workspace}/integrations`,
          headers: { ...admin, 'idempotency-key': 'same-connect-either-case' },
          payload: { vendor: 'github', controls: { repos: ['org/a'] } },
        });
      const upper = await connect(ws.toUpperCase());
      expect(upper.statusCode).toBe(202);
      const lower = await connect(ws);
      expect(lower.statusCode).toBe(202);
      const { integrationId, workflowId } = upper.json();
      expect(lower.json()).toMatchObject({ integrationId, workflowId });
      expect(workflowId).toBe(workflowIds.connect(ws, integrationId));
      const description = await h.services.temporal.client.workflow.getHandle(workflowId).describe();
      expect(description.typedSearchAttributes.get(WorkspaceIdKey)).toBe(ws);
    });
  });
});
