/**
 * The audit fails closed (issue #18, item 2): every subject a valid token may carry is audited, as
 * itself when it is a plain opaque id and as a keyed hash otherwise (no personal data in the log),
 * and a request whose audit entry cannot be written is not served and has no effect.
 */
import crypto from 'node:crypto';
import { auditSubjectId } from '../../db/audit';
import type { AuditSink } from '../../lib/audit';
import { AUDIT_SUBJECT_KEY, bearer, createHarness, type Harness } from './support/harness';

const SUBJECTS: Array<[string, string]> = [
  ['an e-mail address', 'jane.doe@contractor.example'],
  ['spaces and #', 'Jane Doe #2'],
  ['a 36-character Entra object id', 'f81d4fae7dec11d0a76500a0c91e6bf6e2b4'],
  ['a <clientId>@clients subject', 'Xq3bW9kLmN2pR7sT1vY5zA8cE4gH6jK0@clients'],
];

describe('audited subjects', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => h.close());

  it.each(SUBJECTS)(
    'T10 T23 T25: a caller whose subject is %s is served and audited under a keyed hash, never in plain text',
    async (_case, sub) => {
      const ws = crypto.randomUUID();
      let workflowId = '';
      await h.withWorker(async () => {
        const read = await h.app.inject({
          method: 'GET',
          url: `/v1/workspaces/${ws}/integrations`,
          headers: bearer(await h.token({ workspaceId: ws, role: 'member', sub })),
        });
        expect(read.statusCode).toBe(200);
        const connect = await h.app.inject({
          method: 'POST',
          url: `/v1/workspaces/${ws}/integrations`,
          headers: bearer(await h.token({ workspaceId: ws, role: 'admin', sub })),
          payload: { vendor: 'sharepoint', controls: { sites: ['site-1'] } },
        });
        expect(connect.statusCode).toBe(202);
        expect(JSON.stringify(connect.json())).not.toContain(sub);
        workflowId = connect.json().workflowId;
      });
      const hashed = auditSubjectId(sub, AUDIT_SUBJECT_KEY);
      expect(hashed).toMatch(/^h:[0-9a-f]{16}(-[0-9a-f]{16}){3}$/);
      const rows = await h.su('audit_log').where({ workspace_id: ws }).orderBy('seq');
      expect(rows.map((r) => [r.action, r.actor_id, r.outcome])).toEqual([
        ['api.integration.list', hashed, 'success'],
        ['api.integration.connect.authorized', hashed, 'success'],
        ['api.integration.connect', hashed, 'success'],
      ]);
      // The workflow is started with the same id for its actor: the subject is not in its history either.
      const history = await h.services.temporal.client.workflow.getHandle(workflowId).fetchHistory();
      const input = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!.map((p) =>
        Buffer.from(p.data!).toString('utf8'),
      );
      expect(input.join('')).toContain(hashed);
      expect(JSON.stringify([rows, input])).not.toContain(sub);
    },
  );

  it('T10: a plain opaque subject stays verbatim; a subject shaped like a hashed id is hashed too, so none can pose as another', () => {
    expect(auditSubjectId('auth0|5f7c8ec7c33c6c004bbafe82', AUDIT_SUBJECT_KEY)).toBe('auth0|5f7c8ec7c33c6c004bbafe82');
    const hashed = auditSubjectId('jane@example.com', AUDIT_SUBJECT_KEY);
    expect(auditSubjectId(hashed, AUDIT_SUBJECT_KEY)).not.toBe(hashed);
    expect(auditSubjectId('jane@example.com', crypto.randomBytes(32))).not.toBe(hashed);
  });
});

describe('an audit store that fails', () => {
  const CANARY = `canary-${crypto.randomUUID()}`;
  const logLines: string[] = [];
  let h: Harness;
  const failing: AuditSink = {
    record: async () => {
      throw Object.assign(new Error(`connection terminated while writing actor ${CANARY}`), { code: '57P01' });
    },
  };
  beforeAll(async () => {
    h = await createHarness({ audit: failing, logLines });
  });
  afterAll(async () => h.close());

  it('T10 T23: a change is refused with 503 problem+json before it happens, and nothing leaks', async () => {
    const ws = crypto.randomUUID();
    const response = await h.app.inject({
      method: 'POST',
      url: `/v1/workspaces/${ws}/integrations`,
      headers: bearer(await h.token({ workspaceId: ws, role: 'admin', sub: CANARY })),
      payload: { vendor: 'sap', credential: { clientId: 'sap-client', clientSecret: `s3cr3t-${CANARY}` } },
    });
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).toMatchObject({ status: 503, title: 'Service Unavailable', requestId: expect.any(String) });
    // The effect did not happen: no integration row, no stored credential.
    expect(await h.su('integrations').where({ workspace_id: ws })).toHaveLength(0);
    expect(await h.su('secrets').where({ workspace_id: ws })).toHaveLength(0);
    expect(response.body).not.toContain(CANARY);
    expect(logLines.join('\n')).not.toContain(CANARY);
  });

  it('T10 T23: a read is answered 503 problem+json instead of its data', async () => {
    const ws = crypto.randomUUID();
    const response = await h.app.inject({
      method: 'GET',
      url: `/v1/workspaces/${ws}/integrations`,
      headers: bearer(await h.token({ workspaceId: ws, role: 'member', sub: 'member-1' })),
    });
    expect(response.statusCode).toBe(503);
    expect(response.headers['content-type']).toContain('application/problem+json');
    expect(response.json()).not.toHaveProperty('integrations');
    expect(logLines.join('\n')).not.toContain(CANARY);
  });
});
