/**
 * The project allow-list (T18) as JQL. Jira scopes are site-wide, so the admin's project list is the
 * only narrowing: every query, webhook `jqlFilter` and write goes through these helpers. Keys are
 * validated against Jira's key syntax before they reach JQL, and quoted anyway, so a control value
 * can never inject JQL.
 */
import { VendorError, VendorFailureType } from '../errors';

const VENDOR = 'jira';
/** Jira project keys: an uppercase letter, then uppercase letters, digits or underscores (≥ 2 chars). */
const PROJECT_KEY = /^[A-Z][A-Z0-9_]+$/;
/** Issue keys are `<PROJECT>-<number>`. */
const ISSUE_KEY = /^([A-Z][A-Z0-9_]+)-[1-9][0-9]*$/;

function outside(reason: string): VendorError {
  return new VendorError(VendorFailureType.OutsideCustomerControls, VENDOR, reason);
}

/** The admin's allow-list: required (without it we would reach the whole site), every key valid. */
export function allowedProjects(controls: Record<string, string[]>): string[] {
  const keys = controls.projects ?? [];
  if (keys.length === 0) throw outside('no project allow-list: Jira access is refused until the admin picks projects');
  const invalid = keys.filter((key) => !PROJECT_KEY.test(key));
  if (invalid.length > 0) throw outside(`invalid project key in the allow-list (${invalid.length})`);
  return [...new Set(keys)].sort();
}

export function assertProjectAllowed(controls: Record<string, string[]>, projectKey: string): void {
  if (!allowedProjects(controls).includes(projectKey)) throw outside('project is outside the allow-list');
}

/** The project of an issue key, refused when it is not a well-formed key. */
export function projectOfIssueKey(issueKey: string): string {
  const match = ISSUE_KEY.exec(issueKey);
  if (!match) throw new VendorError(VendorFailureType.VendorRejected, VENDOR, 'invalid input: issueKey');
  return match[1]!;
}

/** `project in ("A", "B")`: also the webhook `jqlFilter` (a clause Jira's dynamic-webhook JQL subset accepts). */
export function projectInClause(keys: readonly string[]): string {
  return `project in (${keys.map((key) => `"${key}"`).join(', ')})`;
}

/**
 * The sync query: allow-listed projects, optionally updated since `startMs`, oldest change first.
 * The bound is relative (`updated >= "-90m"`): absolute JQL dates are wall-clock times in the
 * calling user's profile time zone, which our scopes cannot read (`/myself` needs read:jira-user,
 * outside the matrix). Minutes are rounded up, so the window only ever starts earlier.
 */
export function syncJql(keys: readonly string[], startMs: number | undefined, nowMs: number): string {
  const since =
    startMs === undefined ? '' : ` AND updated >= "-${Math.max(1, Math.ceil((nowMs - startMs) / 60_000))}m"`;
  return `${projectInClause(keys)}${since} ORDER BY updated ASC`;
}
