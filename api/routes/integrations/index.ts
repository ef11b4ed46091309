/**
 * Integration routes (T2, T17): connect and its authorize hand-off, reconnect, restrict scopes,
 * change customer controls (and list the admin's choices for them), sync now, polling cadence (T12), rotate, disconnect, status reads, and the admins' consent
 * ledger and purge receipts. Writes start or talk to workflows and answer 202
 * with the run's id and its Temporal UI link; reads combine the database row with the live
 * workflow state (queries). Every request is validated first: scopes outside the vendor matrix,
 * broadened scopes or foreign controls are 422 before any workflow hears of them (T1, T18).
 */
import type { ApiServices } from '../../services';
import type { Api } from '../../types';
import { registerAuthorizeRoute } from './authorize';
import { registerChoiceRoutes } from './choices';
import { registerConnectRoute } from './connect';
import { registerConsentRoutes } from './consent';
import { registerLifecycleRoutes } from './lifecycle';
import { registerIntegrationReadRoutes } from './reads';
import { registerRecordRoutes } from './records';
import { registerScheduleRoute } from './schedule';
import { registerSyncRoutes } from './sync';

/** In this order the OpenAPI document lists them. */
export function registerIntegrationRoutes(app: Api, services: ApiServices): void {
  registerConnectRoute(app, services);
  registerAuthorizeRoute(app, services);
  registerIntegrationReadRoutes(app, services);
  registerRecordRoutes(app, services);
  registerConsentRoutes(app, services);
  registerChoiceRoutes(app, services);
  registerSyncRoutes(app, services);
  registerScheduleRoute(app, services);
  registerLifecycleRoutes(app, services);
}
