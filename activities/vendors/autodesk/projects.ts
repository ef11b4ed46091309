/**
 * The admin's selection (T18) and write switch (T19). An APS token reaches every hub, project and
 * facility its user can see, so the selected projects (`controls.projects`, Data Management ids
 * `b.<uuid>`) or Tandem facilities (`controls.facilities`, `urn:adsk.dtt:…`) are the only thing ever
 * read, hooked or written, and `controls.writes` lists the data-out
 * actions the admin enabled. Every read, hook and write goes through these helpers.
 */
import { VendorError, VendorFailureType } from '../errors';
import { VENDOR } from './errors';

/** ACC and BIM 360 hub and project ids: `b.` and the account's or project's UUID. */
const APS_ID = /^b\.[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Tandem facility (twin) URNs. */
const FACILITY_ID = /^urn:adsk\.dtt:[\w-]{8,64}$/;

function outside(reason: string): VendorError {
  return new VendorError(VendorFailureType.OutsideCustomerControls, VENDOR, reason);
}

export const isApsId = (value: unknown): value is string => typeof value === 'string' && APS_ID.test(value);

/** The selected projects: required (without them we would reach every project of every hub), every id valid. */
export function selectedProjects(controls: Readonly<Record<string, readonly string[]>>): string[] {
  const ids = controls.projects ?? [];
  if (ids.length === 0) throw outside('no project selection: APS access is refused until the admin picks projects');
  if (!ids.every(isApsId)) throw outside('invalid project id in the selection');
  return [...new Set(ids.map((id) => id.toLowerCase()))].sort();
}

export function assertProjectSelected(controls: Readonly<Record<string, readonly string[]>>, projectId: string): void {
  if (!selectedProjects(controls).includes(projectId.toLowerCase())) throw outside('project is outside the selection');
}

/** The hub the admin picked, if any (at most one). */
export function selectedHub(controls: Readonly<Record<string, readonly string[]>>): string | undefined {
  const hubs = controls.hubs ?? [];
  if (hubs.length > 1) throw outside('pick one hub');
  if (hubs.length === 1 && !isApsId(hubs[0])) throw outside('invalid hub id');
  return hubs[0]?.toLowerCase();
}

/** Data out only for actions the admin switched on (`writes`). */
export function assertWriteEnabled(controls: Readonly<Record<string, readonly string[]>>, action: string): void {
  if (!(controls.writes ?? []).includes(action)) throw outside(`writes of ${action} are not enabled by the admin`);
}

/** Tandem: the selected facilities, required, every URN valid. */
export function selectedFacilities(controls: Readonly<Record<string, readonly string[]>>): string[] {
  const ids = controls.facilities ?? [];
  if (ids.length === 0)
    throw outside('no facility selection: Tandem access is refused until the admin picks facilities');
  if (!ids.every((id) => FACILITY_ID.test(id))) throw outside('invalid facility id in the selection');
  return [...new Set(ids)].sort();
}

export function assertFacilitySelected(
  controls: Readonly<Record<string, readonly string[]>>,
  facilityId: string,
): void {
  if (!selectedFacilities(controls).includes(facilityId)) throw outside('facility is outside the selection');
}

/** What a round walks: the selected projects, or for Tandem the selected facilities. */
export const selectedScopes = (vendor: string, controls: Readonly<Record<string, readonly string[]>>) =>
  vendor === 'autodesk-tandem' ? selectedFacilities(controls) : selectedProjects(controls);
