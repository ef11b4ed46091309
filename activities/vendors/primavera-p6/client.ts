/**
 * P6 EPPM's REST API (`/p6ws/restapi/<resource>`) as we use it: reads name their `Fields` (P6
 * returns only those) and narrow with `Filter` in P6's operator syntax (`ProjectObjectId:eq:1001
 * :and: LastUpdateDate:gt:'2026-01-01T00:00:00'`); an answer is a JSON array, unpaged. Activity
 * status is written with `PUT /activity` and an array of `{ ObjectId, Status }`.
 */
import type { RestClient } from '../shared/restClient';
import type { P6Resource } from './descriptor';

export const P6_BASE_PATH = '/p6ws/restapi';

/** The activity statuses P6 accepts. */
export const ACTIVITY_STATUSES = ['Not Started', 'In Progress', 'Completed'] as const;

export interface P6Row {
  ObjectId?: unknown;
  LastUpdateDate?: unknown;
  [field: string]: unknown;
}

interface ResourceSpec {
  path: string;
  /** The field naming the project a row belongs to (a project's own `ObjectId` for schedules). */
  projectField: string;
  /** Schedule facts only: no resource (person) assignments or user names. */
  fields: readonly string[];
}

export const RESOURCES: Record<P6Resource, ResourceSpec> = {
  schedules: {
    path: `${P6_BASE_PATH}/project`,
    projectField: 'ObjectId',
    fields: ['ObjectId', 'Id', 'Name', 'Status', 'DataDate', 'StartDate', 'FinishDate', 'LastUpdateDate'],
  },
  activities: {
    path: `${P6_BASE_PATH}/activity`,
    projectField: 'ProjectObjectId',
    fields: [
      'ObjectId',
      'Id',
      'Name',
      'ProjectObjectId',
      'Status',
      'PercentComplete',
      'PlannedStartDate',
      'PlannedFinishDate',
      'ActualStartDate',
      'ActualFinishDate',
      'LastUpdateDate',
    ],
  },
  baselines: {
    path: `${P6_BASE_PATH}/baselineProject`,
    projectField: 'OriginalProjectObjectId',
    fields: ['ObjectId', 'Id', 'Name', 'OriginalProjectObjectId', 'StartDate', 'FinishDate', 'LastUpdateDate'],
  },
};

/** P6's date form in filters and answers: ISO 8601 to the second, no zone (we keep the server on UTC). */
export function p6Timestamp(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

/** Parses P6's zone-less timestamps as UTC. */
export function parseP6Timestamp(value: unknown): number {
  return typeof value === 'string' ? Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(value) ? value : `${value}Z`) : NaN;
}

/** Conditions joined with P6's `:and:`. */
export function p6Filter(...conditions: Array<string | undefined>): string {
  return conditions.filter((condition): condition is string => condition !== undefined).join(' :and: ');
}

export interface P6Api {
  read(path: string, fields: readonly string[], filter?: string): Promise<P6Row[]>;
  updateActivities(updates: Array<{ ObjectId: number; Status: string }>): Promise<void>;
}

/** The API over the shared REST client (signed in as the service account). */
export function p6Api(rest: RestClient): P6Api {
  return {
    async read(path, fields, filter) {
      const rows = await rest.get<unknown>(path, { Fields: fields.join(','), Filter: filter });
      return Array.isArray(rows) ? (rows as P6Row[]) : [];
    },
    async updateActivities(updates) {
      await rest.request({ method: 'PUT', path: `${P6_BASE_PATH}/activity`, body: updates });
    },
  };
}
