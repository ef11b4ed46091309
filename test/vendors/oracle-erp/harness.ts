/** Oracle ERP Cloud emulator + the REST connector wired together for the Oracle ERP tests. */
import crypto from 'node:crypto';
import { createVendorCallAuditor } from '../../../activities/vendors/audited';
import { ORACLE_ERP_READ } from '../../../activities/vendors/oracle-erp';
import { createOracleErpConnector } from '../../../activities/vendors/oracle-erp/connector';
import type { Connector, ConnectorContext, SourceRecord } from '../../../activities/vendors/types';
import type { AuditEntry } from '../../../lib/audit';
import { startOracleErpEmulator, type OracleErpEmulator } from '../../../emulators/oracle-erp';
import { waitingOutBudget } from '../support/budgets';

export { waitingOutBudget };

export const ERP_USER = 'trackproject.integration';
export const ERP_PASSWORD = 'erp-service-account-password';
/** Small pages so a handful of rows exercises offset paging. */
export const PAGE_SIZE = 4;

export interface OracleErpHarness {
  emulator: OracleErpEmulator;
  connector: Connector;
  /** The service-account credential as the admin submits it. */
  credential(overrides?: Record<string, string>): Record<string, string>;
  context(credential?: Record<string, string>): ConnectorContext & { auditEntries: AuditEntry[] };
  /** Pages of one round until it completes. */
  round(
    ctx: ConnectorContext,
    resource: string,
    cursor: string | null,
  ): Promise<{ records: SourceRecord[]; cursor: string | null; pages: number }>;
}

export async function startOracleErpHarness(options: { pageSize?: number } = {}): Promise<OracleErpHarness> {
  const emulator = await startOracleErpEmulator();
  emulator.control.addUser(ERP_USER, ERP_PASSWORD);
  const connector = createOracleErpConnector({
    hosts: { hosts: ['127.0.0.1'], allowHttp: true },
    pageSize: options.pageSize ?? PAGE_SIZE,
    now: emulator.control.clock.now,
  });
  const credential: OracleErpHarness['credential'] = (overrides = {}) => ({
    baseUrl: emulator.url,
    username: ERP_USER,
    password: ERP_PASSWORD,
    ...overrides,
  });
  const context: OracleErpHarness['context'] = (submitted = credential()) => {
    const workspaceId = crypto.randomUUID();
    const entries: AuditEntry[] = [];
    return {
      workspaceId,
      integrationId: crypto.randomUUID(),
      vendor: 'oracle-erp',
      credential: { accessToken: JSON.stringify(submitted), grantedScopes: [ORACLE_ERP_READ] },
      scopes: [ORACLE_ERP_READ],
      controls: {},
      audit: createVendorCallAuditor({
        sink: { record: async (entry) => void entries.push(entry) },
        workspaceId,
        vendor: 'oracle-erp',
        actor: { type: 'workflow', id: 'test-workflow' },
        consentedScopes: [ORACLE_ERP_READ],
      }),
      auditEntries: entries,
    };
  };
  return {
    emulator,
    connector,
    credential,
    context,
    async round(ctx, resource, cursor) {
      const records: SourceRecord[] = [];
      let pages = 0;
      for (;;) {
        const page = await waitingOutBudget(
          () => connector.fetchPage(ctx, { resource, cursor }),
          emulator.control.clock,
        );
        pages += 1;
        records.push(...page.records);
        cursor = page.nextCursor;
        if (page.roundComplete) return { records, cursor, pages };
        if (pages > 200) throw new Error('round does not end');
      }
    },
  };
}
