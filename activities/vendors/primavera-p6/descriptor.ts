/** The Oracle Primavera P6 row of the vendor matrix, as data. */
import { POLLED_SERVICE_ACCOUNT_ROW } from '../shared/serviceAccountRow';
import type { VendorDescriptor } from '../types';

/** The matrix lists a read permission in prose, not scope names: kept as written (one label). */
export const P6_READ = 'Read schedules, activities, baselines';

/** The matrix's data in, each with its own cursor: a schedule is a P6 project. */
export const P6_SYNC_RESOURCES = ['schedules', 'activities', 'baselines'] as const;
export type P6Resource = (typeof P6_SYNC_RESOURCES)[number];

/** The admin's project selection (P6 `ObjectId`s): every read and write stays inside it. */
export const P6_PROJECTS_CONTROL = 'projects';
/** Data out is on only while this control holds `enabled` (narrowing removes it; enabling needs a reconnect). */
export const P6_STATUS_UPDATES_CONTROL = 'status-updates';

export const primaveraDescriptor: VendorDescriptor = {
  id: 'primavera-p6',
  displayName: 'Oracle Primavera P6',
  ...POLLED_SERVICE_ACCOUNT_ROW,
  scopes: { required: [P6_READ], optional: [] },
  customerControl: {
    kind: 'tenant',
    description: 'Service account in Customer tenant.',
    // P6 lists the projects the account sees: the admin picks from them.
    listable: true,
    settings: [P6_PROJECTS_CONTROL, P6_STATUS_UPDATES_CONTROL],
  },
  dataIn: ['schedules', 'activities', 'baselines'],
  dataOut: ['status-update'],
  syncResources: P6_SYNC_RESOURCES,
  rateLimit: {
    // Oracle publishes no request limit for the P6 EPPM REST API (cloud or on-premises): 60 a
    // minute per P6 server is our own conservative ceiling; a 429 with Retry-After is honoured.
    requestsPerMinute: 60,
    // Every integration on one P6 server shares it (the credential's host).
    countedPer: ['host'],
  },
};

export const primaveraDescriptors: readonly VendorDescriptor[] = [primaveraDescriptor];
