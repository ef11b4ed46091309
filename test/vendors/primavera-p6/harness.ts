/** Primavera P6 emulator + the REST connector wired together for the P6 tests. */
import { P6_READ } from '../../../activities/vendors/primavera-p6';
import { createPrimaveraConnector } from '../../../activities/vendors/primavera-p6/connector';
import type { Connector, ConnectorContext } from '../../../activities/vendors/types';
import type { AuditEntry } from '../../../lib/audit';
import { startPrimaveraEmulator, type P6Object, type PrimaveraEmulator } from '../../../emulators/primavera-p6';
import { waitingOutBudget } from '../support/budgets';
import { fullRound, serviceAccountContext, type Round } from '../support/connectorTests';

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
  round(ctx: ConnectorContext, resource: string, cursor: string | null): Promise<Round>;
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
  const context: PrimaveraHarness['context'] = (options = {}) =>
    serviceAccountContext({
      vendor: 'primavera-p6',
      credential: options.credential ?? credential(),
      scopes: [P6_READ],
      grantedScopes: [P6_READ],
      controls: options.controls ?? { projects: [String(tower.ObjectId), String(depot.ObjectId)] },
    });
  return {
    emulator,
    connector,
    projects: { tower, depot, office },
    credential,
    context,
    /** Our own budget is waited out on the emulator's clock, as the sync workflow waits it out. */
    round: (ctx, resource, cursor) =>
      fullRound(
        { fetchPage: (c, request) => waitingOutBudget(() => connector.fetchPage(c, request), control.clock) },
        ctx,
        resource,
        cursor,
      ),
  };
}
