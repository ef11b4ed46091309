/**
 * Autodesk Tandem through the shared REST client (Tandem has no npm SDK): a facility (twin) and its
 * models (`GET /tandem/v1/twins/{facility}`), the app's service access on it
 * (`GET /tandem/v1/twins/{facility}/users`), a model's elements with their names and parameters
 * (`POST /tandem/v1/modeldata/{model}/scan`: a version marker, then one row per element keyed `k`,
 * columns `<family>:<column>`: `n:` standard, `z:` the facility's user-defined parameters) and writes
 * of one parameter (`POST /tandem/v1/modeldata/{model}/mutate`).
 */
import crypto from 'node:crypto';
import { VendorError, VendorFailureType } from '../errors';
import type { SourceRecord } from '../types';
import type { ApsRest } from './client';
import { VENDOR } from './errors';

type Json = Record<string, unknown>;

export interface Facility {
  name: unknown;
  /** The facility's models (its `links`). */
  models: string[];
}

const path = (id: string) => encodeURIComponent(id);

export async function readFacility(rest: ApsRest, facilityId: string): Promise<Facility> {
  const twin = await rest.get<{ props?: Record<string, Json>; links?: Array<{ modelId?: unknown }> }>(
    `/tandem/v1/twins/${path(facilityId)}`,
  );
  return {
    name: twin.props?.['Identity Data']?.['Building Name'],
    models: (twin.links ?? []).map((link) => link.modelId).filter((id): id is string => typeof id === 'string'),
  };
}

/** Whether our app (its client id) is a service user of the facility: what app-only access needs. */
export async function isServiceUser(rest: ApsRest, facilityId: string, clientId: string): Promise<boolean> {
  const users = await rest.get<Record<string, { accessLevel?: unknown }>>(`/tandem/v1/twins/${path(facilityId)}/users`);
  return typeof users[clientId]?.accessLevel === 'string';
}

/** One record per element of a model: its name and parameters (T14: no history, no geometry). */
export async function scanAssets(rest: ApsRest, facilityId: string, modelId: string): Promise<SourceRecord[]> {
  const rows = await rest.request<unknown[]>({
    method: 'POST',
    path: `/tandem/v1/modeldata/${path(modelId)}/scan`,
    body: { families: ['n', 'z'], includeHistory: false, skipArrays: true },
  });
  if (!Array.isArray(rows)) throw new VendorError(VendorFailureType.VendorRejected, VENDOR, 'a scan list was expected');
  return rows
    .filter((row): row is Json => typeof row === 'object' && row !== null && typeof (row as Json).k === 'string')
    .map((row) => {
      const parameters = Object.fromEntries(Object.entries(row).filter(([column]) => column.startsWith('z:')));
      const payload = { name: row['n:n'], category: row['n:c'], parameters, facilityId, modelId };
      return {
        resource: 'assets',
        externalId: `${modelId}/${String(row.k)}`,
        // Tandem's scan carries no change time here: a digest lets unchanged rows skip the upsert.
        version: crypto.createHash('sha256').update(JSON.stringify(payload)).digest('base64url'),
        payload,
      };
    });
}

/** Writes one parameter of one element; the model must be one of the facility's (T18). */
export async function writeParameter(
  rest: ApsRest,
  input: { facilityId: string; modelId: string; elementKey: string; parameter: string; value: string; desc: string },
): Promise<Record<string, unknown>> {
  if (!/^z:[\w-]{1,32}$/.test(input.parameter))
    throw new VendorError(VendorFailureType.VendorRejected, VENDOR, 'invalid input: parameter');
  const facility = await readFacility(rest, input.facilityId);
  if (!facility.models.includes(input.modelId))
    throw new VendorError(VendorFailureType.OutsideCustomerControls, VENDOR, 'model is not in the facility');
  const [, column] = input.parameter.split(':') as [string, string];
  await rest.request({
    method: 'POST',
    path: `/tandem/v1/modeldata/${path(input.modelId)}/mutate`,
    body: { keys: [input.elementKey], muts: [['i', 'z', column, input.value]], desc: input.desc },
  });
  return { externalId: `${input.modelId}/${input.elementKey}`, parameter: input.parameter };
}
