/** Oracle ERP Cloud emulator + the REST connector wired together for the Oracle ERP tests. */
import { ORACLE_ERP_READ } from '../../../activities/vendors/oracle-erp';
import { createOracleErpConnector } from '../../../activities/vendors/oracle-erp/connector';
import type { Connector, ConnectorContext } from '../../../activities/vendors/types';
import type { AuditEntry } from '../../../lib/audit';
import { startOracleErpEmulator, type OracleErpEmulator } from '../../../emulators/oracle-erp';
import { waitingOutBudget } from '../support/budgets';
import { fullRound, serviceAccountContext, type Round } from '../support/connectorTests';

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
  round(ctx: ConnectorContext, resource: string, cursor: string | null): Promise<Round>;
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
  const context: OracleErpHarness['context'] = (submitted = credential()) =>
    serviceAccountContext({
      vendor: 'oracle-erp',
      credential: submitted,
      scopes: [ORACLE_ERP_READ],
      grantedScopes: [ORACLE_ERP_READ],
    });
  return {
    emulator,
    connector,
    credential,
    context,
    /** Our own budget is waited out on the emulator's clock, as the sync workflow waits it out. */
    round: (ctx, resource, cursor) =>
      fullRound(
        { fetchPage: (c, request) => waitingOutBudget(() => connector.fetchPage(c, request), emulator.control.clock) },
        ctx,
        resource,
        cursor,
      ),
  };
}
