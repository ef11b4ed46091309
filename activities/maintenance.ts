import type { Knex } from 'knex';
import { sweepExpired } from '../db/cache';
import {
  markIntegrationDeliveriesSignalled,
  unsignalledWebhookIntegrations,
  type UnsignalledWebhooks,
} from '../db/webhooks';

export type { UnsignalledWebhooks };

/** A delivery younger than this may still be on its way to the lifecycle from the receiver. */
const CATCH_UP_AFTER_S = 120;
/** Integrations per catch-up run; the next run takes the rest. */
const CATCH_UP_BATCH = 500;

export function createMaintenanceActivities(deps: { db: Knex }) {
  return {
    /** Integrations with verified deliveries whose lifecycle signal did not go out (ids only, every workspace). */
    async unsignalledWebhookIntegrations(): Promise<UnsignalledWebhooks[]> {
      return unsignalledWebhookIntegrations(deps.db, CATCH_UP_AFTER_S, CATCH_UP_BATCH);
    },

    /** The lifecycle was signalled (or is gone): its pending deliveries are handled. */
    async markWebhooksSignalled(input: UnsignalledWebhooks): Promise<number> {
      return markIntegrationDeliveriesSignalled(deps.db, input);
    },

    /** Deletes expired cached records and webhook deliveries in every workspace (T3). */
    async sweepExpiredCache(): Promise<{ cachedRecords: number; webhookDeliveries: number }> {
      return sweepExpired(deps.db);
    },
  };
}
