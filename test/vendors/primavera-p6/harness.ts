/** Primavera P6 emulator + the REST connector wired together for the P6 tests. */
import crypto from 'node:crypto';
import { createVendorCallAuditor } from '../../../activities/vendors/audited';
import { P6_READ } from '../../../activities/vendors/primavera-p6';
import { createPrimaveraConnector } from '../../../activities/vendors/primavera-p6/connector';
import type { Connector, ConnectorContext, SourceRecord } from '../../../activities/vendors/types';
import type { AuditEntry } from '../../../lib/audit';
import { startPrimaveraEmulator, type P6Object, type PrimaveraEmulator } from '../../../emulators/primavera-p6';
import { waitingOutBudget } from '../support/budgets';

export const P6_USER = 'trackproject.p6';
export const P6_PASSWORD = 'p6-service-account-password';

export interface PrimaveraHarness {
  emulator: PrimaveraEmulator;
  connector: Connector;
  /** The admin selects tower and depot; office is visible to the account but never selected. */
  projects: { tower: P6Object; depot: P6Object; office: P6Object };
  credential(overrides?: Record<string, string>): Record<string, string>;
  context(options?: {
    credential?: Record<string, string>;
    controls?: Record<string, string[]>;
  }): ConnectorContext & { auditEntries: AuditEntry[] };
  round(
    ctx: ConnectorContext,
    resource: string,
    cursor: string | null,
  ): Promise<{ records: SourceRecord[]; cursor: string | null; pages: number }>;
}

export async function startPrimaveraHarness(): Promise<PrimaveraHarness> {
  const emulator = await startPrimaveraEmulator();
  const { control } = emulator;
  const [tower, depot, office] = ['Tower A', 'Depot', 'Head office fit-out'].map((name, i) =>
    control.add('project', { Id: `P-${i + 1}`, Name: name, Status: 'Active' }),
  ) as [P6Object, P6Object, P6Object];
  control.addUser(P6_USER, P6_PASSWORD, { projects: [tower.ObjectId, depot.ObjectId, office.ObjectId] });
  const connector = createPrimaveraConnector({
    hosts: { hosts: ['127.0.0.1'], allowHttp: true },
    now: control.clock.now,
  });
  const credential: PrimaveraHarness['credential'] = (overrides = {}) => ({
    baseUrl: emulator.url,
    username: P6_USER,
    password: P6_PASSWORD,
    ...overrides,
  });
  const context: PrimaveraHarness['context'] = (options = {}) => {
    const workspaceId = crypto.randomUUID();
    const entries: AuditEntry[] = [];
    return {
      workspaceId,
      integrationId: crypto.randomUUID(),
      vendor: 'primavera-p6',
      credential: { accessToken: JSON.stringify(options.credential ?? credential()), grantedScopes: [P6_READ] },
      scopes: [P6_READ],
      controls: options.controls ?? { projects: [String(tower.ObjectId), String(depot.ObjectId)] },
      audit: createVendorCallAuditor({
        sink: { record: async (entry) => void entries.push(entry) },
        workspaceId,
        vendor: 'primavera-p6',
        actor: { type: 'workflow', id: 'test-workflow' },
        consentedScopes: [P6_READ],
      }),
      auditEntries: entries,
    };
  };
  return {
    emulator,
    connector,
    projects: { tower, depot, office },
    credential,
    context,
    async round(ctx, resource, cursor) {
      const records: SourceRecord[] = [];
      let pages = 0;
      for (;;) {
        const page = await waitingOutBudget(() => connector.fetchPage(ctx, { resource, cursor }), control.clock);
        pages += 1;
        records.push(...page.records);
        cursor = page.nextCursor;
        if (page.roundComplete) return { records, cursor, pages };
        if (pages > 200) throw new Error('round does not end');
      }
    },
  };
}
