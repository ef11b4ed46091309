/**
 * The project selection (T18). A Procore token reaches every project its user can see, so the
 * admin's selection (`controls.projects`, Procore project ids) is the only narrowing: every read,
 * hook and write goes through these helpers, and nothing about another project is ever requested.
 */
import { VendorError, VendorFailureType } from '../errors';

const VENDOR = 'procore';
/** Procore ids are positive integers. */
const PROCORE_ID = /^[1-9][0-9]{0,17}$/;

function outside(reason: string): VendorError {
  return new VendorError(VendorFailureType.OutsideCustomerControls, VENDOR, reason);
}

/** The admin's selection: required (without it we would reach every project of the company), every id valid. */
export function selectedProjects(controls: Record<string, string[]>): string[] {
  const ids = controls.projects ?? [];
  if (ids.length === 0) throw outside('no project selection: Procore access is refused until the admin picks projects');
  if (ids.some((id) => !PROCORE_ID.test(id))) throw outside('invalid project id in the selection');
  return [...new Set(ids)].sort((a, b) => Number(a) - Number(b));
}

export function assertProjectSelected(controls: Record<string, string[]>, projectId: string): void {
  if (!selectedProjects(controls).includes(projectId)) throw outside('project is outside the selection');
}

export function isProcoreId(value: unknown): value is string {
  return typeof value === 'string' && PROCORE_ID.test(value);
}
