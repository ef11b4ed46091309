/**
 * The id sweep in the end-to-end tests of the vendors that keep no tombstones (SAP, Oracle ERP
 * Cloud, Primavera P6): a record deleted at the vendor without a trace is only found by the sweep
 * that follows every ID_SWEEP_EVERY-th completed incremental round of a resource.
 */
import { ID_SWEEP_EVERY } from '../../../workflows/sync';
import type { VendorHarness } from './harness';

/**
 * Makes the next completed incremental round of every resource of the integration start its id
 * sweep: the rounds in between run as any other (one a resource per sync), so a test skips them.
 */
export async function makeIdSweepDue(h: Pick<VendorHarness, 'admin'>, integrationId: string): Promise<void> {
  await h
    .admin('sync_state')
    .where({ integration_id: integrationId })
    .update({ rounds_since_id_sweep: ID_SWEEP_EVERY - 1 });
}

export interface IdSweepTrace {
  /** Completed sweeps of the resource in the audit log. */
  audited: number;
  roundsSinceSweep: number;
  /** A sweep started and not ended (its start or cursor still stored). */
  underWay: boolean;
}

/** Per resource of the integration: the id sweeps audited and the sweep state `sync_state` holds. */
export async function idSweepTraces(
  h: Pick<VendorHarness, 'admin'>,
  integrationId: string,
): Promise<Record<string, IdSweepTrace>> {
  const actions: string[] = await h
    .admin('audit_log')
    .where({ integration_id: integrationId })
    .whereLike('action', 'sync.id-sweep.%')
    .pluck('action');
  const states = await h.admin('sync_state').where({ integration_id: integrationId });
  return Object.fromEntries(
    states.map((state) => [
      state.resource as string,
      {
        audited: actions.filter((action) => action === `sync.id-sweep.${state.resource}`).length,
        roundsSinceSweep: state.rounds_since_id_sweep as number,
        underWay: state.id_sweep_started_at !== null || state.id_sweep_cursor !== null,
      },
    ]),
  );
}

/** What `idSweepTraces` shows once each of `resources` was swept exactly once, to its end. */
export function sweptOnce(resources: readonly string[]): Record<string, IdSweepTrace> {
  return Object.fromEntries(
    resources.map((resource) => [resource, { audited: 1, roundsSinceSweep: 0, underWay: false }]),
  );
}
