/**
 * The trust report: which promise (docs/promises.md) the passing tests of a run prove, and for
 * a promise that names vendor rows, which of its rows. Built by the Jest reporter after a run
 * (`trustReporter.js`) and printed again from the saved results by `npm run trust-report`.
 */
import fs from 'node:fs';
import path from 'node:path';
import { REPO_ROOT, type TrustPromise } from './trustDocs';

export const REPORTS_DIR = path.join(REPO_ROOT, 'reports');
export const RESULTS_FILE = path.join(REPORTS_DIR, 'trust-results.json');
export const REPORT_FILE = path.join(REPORTS_DIR, 'trust-report.md');

export interface PassingTest {
  /** Relative to the repository root. */
  file: string;
  /** Enclosing `describe` titles and the test title, joined with ` › `. */
  title: string;
}

export interface PromiseCoverage {
  id: string;
  title: string;
  proven: boolean;
  /** Tests that carry the promise id (and, for a row-naming promise, one of its rows). */
  tests: string[];
  rows?: { named: string[]; covered: string[]; uncovered: string[] };
}

export interface TrustResults {
  generatedAt: string;
  testFiles: number;
  promises: PromiseCoverage[];
  /** Bracketed ids in passing test titles that are no row of the matrix (a typo proves nothing). */
  unknownRowTags: string[];
}

const promiseIds = (title: string) => new Set(title.match(/\bT\d{1,2}\b/g) ?? []);

/** `[github]` or `[sharepoint, onedrive]`: bracketed, comma-separated ids that look like row ids. */
export function rowTags(title: string): string[] {
  return [...title.matchAll(/\[([a-z0-9-]+(?:\s*,\s*[a-z0-9-]+)*)\]/g)].flatMap((m) =>
    m[1]!.split(',').map((id) => id.trim()),
  );
}

export function trustResults(
  promises: readonly TrustPromise[],
  rowIds: readonly string[],
  passing: readonly PassingTest[],
  testFiles: number,
): TrustResults {
  const unknownRowTags = new Set<string>();
  const coverage = promises.map((promise): PromiseCoverage => {
    const covered = new Set<string>();
    const tests: string[] = [];
    for (const test of passing) {
      if (!promiseIds(test.title).has(promise.id)) continue;
      const tags = rowTags(test.title);
      for (const tag of tags) if (!rowIds.includes(tag)) unknownRowTags.add(tag);
      const named = promise.rows ? tags.filter((tag) => promise.rows!.includes(tag)) : [];
      if (promise.rows && named.length === 0) continue;
      named.forEach((row) => covered.add(row));
      tests.push(`${test.file}: ${test.title}`);
    }
    if (!promise.rows) return { id: promise.id, title: promise.title, proven: tests.length > 0, tests };
    const uncovered = promise.rows.filter((row) => !covered.has(row));
    return {
      id: promise.id,
      title: promise.title,
      proven: uncovered.length === 0,
      tests,
      rows: { named: [...promise.rows], covered: promise.rows.filter((row) => covered.has(row)), uncovered },
    };
  });
  return {
    generatedAt: new Date().toISOString(),
    testFiles,
    promises: coverage,
    unknownRowTags: [...unknownRowTags].sort(),
  };
}

function coverageLine(promise: PromiseCoverage): string {
  const id = promise.id.padEnd(4);
  if (promise.rows) {
    const count = `${promise.rows.covered.length}/${promise.rows.named.length} rows`;
    return promise.proven
      ? `${id} ${count}`
      : `${id} ${count.padEnd(10)} uncovered: ${promise.rows.uncovered.join(', ')}`;
  }
  const count = promise.tests.length;
  return promise.proven ? `${id} proven (${count} passing test${count === 1 ? '' : 's'})` : `${id} no passing test`;
}

/** The summary a terminal shows: one line per promise, then the totals. */
export function renderSummary(results: TrustResults): string {
  const proven = results.promises.filter((p) => p.proven).length;
  return [
    `Trust report (${results.generatedAt}, ${results.testFiles} test files): ${proven}/${results.promises.length} promises proven`,
    ...results.promises.map(coverageLine),
    ...(results.unknownRowTags.length ? [`Unknown row tags: ${results.unknownRowTags.join(', ')}`] : []),
  ].join('\n');
}

export function renderMarkdown(results: TrustResults): string {
  const lines = [
    '# Trust report',
    '',
    `Generated ${results.generatedAt} from a run of ${results.testFiles} test files. A promise that names vendor`,
    'rows is proven only when a passing test names it together with each of its rows (docs/promises.md).',
    '',
    '```',
    renderSummary(results),
    '```',
    '',
  ];
  for (const promise of results.promises) {
    lines.push(`## ${promise.id} ${promise.title}${promise.proven ? '' : ' (not proven)'}`, '');
    if (promise.rows) lines.push(`Rows covered: ${promise.rows.covered.length}/${promise.rows.named.length}.`);
    if (promise.rows?.uncovered.length) lines.push(`Uncovered: ${promise.rows.uncovered.join(', ')}.`);
    if (promise.rows) lines.push('');
    for (const test of promise.tests) lines.push(`- ${test}`);
    if (promise.tests.length) lines.push('');
  }
  return lines.join('\n');
}

export function writeTrustResults(results: TrustResults): void {
  fs.mkdirSync(REPORTS_DIR, { recursive: true });
  fs.writeFileSync(RESULTS_FILE, JSON.stringify(results, null, 2) + '\n');
  fs.writeFileSync(REPORT_FILE, renderMarkdown(results));
}

/** The last run's results, or undefined when no run has written any yet. */
export function readTrustResults(): TrustResults | undefined {
  if (!fs.existsSync(RESULTS_FILE)) return undefined;
  return JSON.parse(fs.readFileSync(RESULTS_FILE, 'utf8')) as TrustResults;
}
