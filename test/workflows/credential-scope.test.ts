/**
 * T22 (outbound integration calls run under workspace-scoped credentials) and T7: every vendor call
 * an activity makes carries the credential of the integration's own workspace, resolved inside
 * that workspace's RLS scope; naming an integration under another workspace reaches neither its
 * row nor its credential, and no vendor call is made.
 */
import type { ConnectorContext, SyncPage } from '../../activities/vendors/types';
import { createHarness, seedConnectedIntegration, type Harness } from './support/harness';
import { MemoryConnector } from '../../dev/memoryConnector';

class RecordingConnector extends MemoryConnector {
  readonly calls: Array<{ workspaceId: string; integrationId: string; accessToken: string }> = [];
  override async fetchPage(
    ctx: ConnectorContext,
    input: { resource: string; cursor: string | null },
  ): Promise<SyncPage> {
    this.calls.push({
      workspaceId: ctx.workspaceId,
      integrationId: ctx.integrationId,
      accessToken: ctx.credential.accessToken,
    });
    return super.fetchPage(ctx, input);
  }
}

describe('T22: outbound calls run under the workspace-scoped credential', () => {
  let h: Harness;
  let connector: RecordingConnector;
  beforeAll(() => {
    connector = new RecordingConnector();
    connector.upsert('r-1', 'one');
    h = createHarness(connector);
  });
  afterAll(() => h.close());

  it("T22 T7: each integration is called with its own workspace's token; a cross-workspace reference makes no call", async () => {
    const a = await seedConnectedIntegration(h, {
      accessToken: 'token-of-workspace-a',
      refreshToken: 'ra',
      grantedScopes: ['repo:read'],
    });
    const b = await seedConnectedIntegration(h, {
      accessToken: 'token-of-workspace-b',
      refreshToken: 'rb',
      grantedScopes: ['repo:read'],
    });
    const resource = 'issues';

    await h.activities.syncPage({ ...a, resource });
    await h.activities.syncPage({ ...b, resource });
    expect(connector.calls).toEqual([
      { ...a, accessToken: 'token-of-workspace-a' },
      { ...b, accessToken: 'token-of-workspace-b' },
    ]);

    // Workspace A's id with B's integration: RLS hides B's row, so nothing is resolved or called.
    await expect(
      h.activities.syncPage({ workspaceId: a.workspaceId, integrationId: b.integrationId, resource }),
    ).rejects.toMatchObject({
      type: 'IntegrationNotFound',
    });
    expect(connector.calls).toHaveLength(2);

    // Every call is audited in the workspace it ran for (T10), never in the other one.
    const audited = await h
      .admin('audit_log')
      .whereIn('workspace_id', [a.workspaceId, b.workspaceId])
      .where({ direction: 'outbound' })
      .select('workspace_id', 'integration_id');
    expect(audited).toEqual(
      expect.arrayContaining([
        { workspace_id: a.workspaceId, integration_id: a.integrationId },
        { workspace_id: b.workspaceId, integration_id: b.integrationId },
      ]),
    );
    expect(
      audited.every((row) => (row.workspace_id === a.workspaceId ? a : b).integrationId === row.integration_id),
    ).toBe(true);
  });
});
