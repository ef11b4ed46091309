/**
 * The JQL subset the emulator understands, parsed the way Jira would evaluate it: clauses joined by
 * AND — `project in ("A", "B")`, `project = A`, `updated >= "-90m"` (relative minutes) or
 * `updated >= "yyyy-MM-dd HH:mm"` (UTC: the emulated user's profile zone) — and an optional
 * `ORDER BY updated ASC|DESC`. Anything else throws, answered as Jira's 400.
 */
export interface ParsedJql {
  projects?: string[];
  updatedFromMs?: number;
  order: 'asc' | 'desc';
}

export class JqlError extends Error {}

const VALUE = String.raw`(?:"([^"]*)"|([A-Za-z0-9_-]+))`;
const PROJECT_IN = new RegExp(String.raw`^project\s+in\s*\(\s*(${VALUE}(?:\s*,\s*${VALUE})*)\s*\)$`, 'i');
const PROJECT_EQ = new RegExp(String.raw`^project\s*=\s*${VALUE}$`, 'i');
const UPDATED_GE = new RegExp(String.raw`^updated\s*>=\s*${VALUE}$`, 'i');

function unquote(match: RegExpExecArray, from: number): string {
  return match[from] ?? match[from + 1]!;
}

function updatedFrom(value: string, nowMs: number): number {
  const relative = /^-(\d+)m$/.exec(value);
  if (relative) return nowMs - Number(relative[1]) * 60_000;
  const absolute = /^(\d{4})[-/](\d\d)[-/](\d\d) (\d\d):(\d\d)$/.exec(value);
  if (absolute)
    return Date.UTC(
      Number(absolute[1]),
      Number(absolute[2]) - 1,
      Number(absolute[3]),
      Number(absolute[4]),
      Number(absolute[5]),
    );
  throw new JqlError(`Date value '${value}' for field 'updated' is invalid.`);
}

export function parseJql(jql: string, nowMs: number): ParsedJql {
  const [where = '', orderBy] = jql.split(/\s+ORDER\s+BY\s+/i);
  const parsed: ParsedJql = { order: 'asc' };
  if (orderBy !== undefined) {
    const order = /^updated(?:\s+(ASC|DESC))?$/i.exec(orderBy.trim());
    if (!order) throw new JqlError(`Not able to sort using field '${orderBy.trim()}'.`);
    parsed.order = (order[1] ?? 'ASC').toUpperCase() === 'DESC' ? 'desc' : 'asc';
  }
  if (where.trim() === '') return parsed;
  for (const clause of where.split(/\s+AND\s+/i).map((part) => part.trim())) {
    const inList = PROJECT_IN.exec(clause);
    const equals = PROJECT_EQ.exec(clause);
    const updated = UPDATED_GE.exec(clause);
    if (inList)
      parsed.projects = [...inList[1]!.matchAll(new RegExp(VALUE, 'g'))].map((match) => match[1] ?? match[2]!);
    else if (equals) parsed.projects = [unquote(equals, 1)];
    else if (updated) parsed.updatedFromMs = updatedFrom(unquote(updated, 1), nowMs);
    else throw new JqlError(`Error in the JQL Query: unsupported clause '${clause}'.`);
  }
  return parsed;
}
