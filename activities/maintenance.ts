import type { Knex } from 'knex';
import { sweepExpired } from '../db/cache';
import { withWorkspace } from '../db/workspaceScope';

/** A delivery younger than this may still be on its way to the lifecycle from the receiver. */
const CATCH_UP_AFTER_S = 120;
/** Integrations per catch-up run; the next run takes the rest. */
const CATCH_UP_BATCH = 500;

export interface UnsignalledWebhooks {
  workspaceId: string;
  integrationId: string;
  /** The newest unprocessed delivery's receive time (ISO): marking stops there, later ones wait for their own run. */
  receivedThrough: string;
}

export function createMaintenanceActivities(deps: { db: Knex }) {
  return {
    /** Integrations with verified deliveries whose lifecycle signal did not go out (ids only, every workspace). */
    async unsignalledWebhookIntegrations(): Promise<UnsignalledWebhooks[]> {
      const { rows } = await deps.db.raw<{
        rows: Array<{ workspace_id: string; integration_id: string; received_through: Date }>;
      }>('select * from unsignalled_webhook_integrations(?, ?)', [CATCH_UP_AFTER_S, CATCH_UP_BATCH]);
      return rows.map((row) => ({
        workspaceId: row.workspace_id,
        integrationId: row.integration_id,
        receivedThrough: row.received_through.toISOString(),
      }));
    },

    /** The lifecycle was signalled (or is gone): its pending deliveries are handled. */
    async markWebhooksSignalled(input: UnsignalledWebhooks): Promise<number> {
      return withWorkspace(deps.db, input.workspaceId, (trx) =>
        trx('webhook_deliveries')
          .where({ integration_id: input.integrationId })
          .whereNull('processed_at')
          .where('received_at', '<=', input.receivedThrough)
          .update({ processed_at: trx.fn.now() }),
      );
    },

    /** Deletes expired cached records and webhook deliveries in every workspace (T3). */
    async sweepExpiredCache(): Promise<{ cachedRecords: number; webhookDeliveries: number }> {
      return sweepExpired(deps.db);
    },
  };
}
