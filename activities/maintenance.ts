import type { Knex } from 'knex';
import { sweepExpired } from '../db/cache';

export function createMaintenanceActivities(deps: { db: Knex }) {
  return {
    /** Deletes expired cached records and webhook deliveries in every workspace (T3). */
    async sweepExpiredCache(): Promise<{ cachedRecords: number; webhookDeliveries: number }> {
      return sweepExpired(deps.db);
    },
  };
}
