/**
 * T1: every wave-1 descriptor requests exactly the scopes of its row in the published vendor matrix
 * (the trust page in `../shared/seeds/`), parsed here from the page text itself.
 */
import fs from 'node:fs';
import path from 'node:path';
import { githubDescriptors } from '../../activities/vendors/github';
import { jiraDescriptors } from '../../activities/vendors/jira';
import type { VendorDescriptor } from '../../activities/vendors/types';

const SEEDS = path.resolve(__dirname, '../../../shared/seeds');
const MATRIX_FILE = fs.readdirSync(SEEDS).find((name) => name.startsWith('000_'))!;

/** Matrix rows as "<Vendor><Scopes><Data in>…" lines under "VendorScopesData inData outCustomer control" headers. */
function matrixScopes(displayName: string): { required: string[]; optional: string[] } {
  const lines = fs.readFileSync(path.join(SEEDS, MATRIX_FILE), 'utf8').split('\n');
  const row = lines.find((line) => line.startsWith(displayName) && !line.startsWith('VendorScopes'));
  if (!row) throw new Error(`matrix has no row for ${displayName}`);
  // The scopes cell ends where the "Data in" cell starts: the row's second capitalised run after the scopes.
  const rest = row.slice(displayName.length);
  const scopesCell = /^((?:[a-z:._-]+|[A-Z][A-Za-z.]*\.[A-Za-z]+|\(optional\)|\(per [a-z]+\)|,\s*|\s+)+)/.exec(rest)?.[1] ?? '';
  const scopes = scopesCell
    .replace(/\(per [a-z]+\)/g, '')
    .split(',')
    .map((scope) => scope.trim())
    .filter(Boolean);
  return {
    required: scopes.filter((scope) => !scope.endsWith('(optional)')),
    optional: scopes.filter((scope) => scope.endsWith('(optional)')).map((scope) => scope.replace(/\s*\(optional\)$/, '')),
  };
}

const WAVE_1: readonly VendorDescriptor[] = [...githubDescriptors, ...jiraDescriptors];

test.each(WAVE_1.map((descriptor) => [descriptor.displayName, descriptor] as const))('T1: %s descriptor scopes equal the matrix row exactly', (_name, descriptor) => {
  const matrix = matrixScopes(descriptor.displayName);
  expect(matrix.required.length).toBeGreaterThan(0);
  expect({ required: [...descriptor.scopes.required], optional: [...descriptor.scopes.optional] }).toEqual(matrix);
});

test('T1: the matrix parser reads optional scopes (Microsoft 365 row) and per-resource qualifiers (GitHub row)', () => {
  expect(matrixScopes('Microsoft 365')).toEqual({ required: ['Files.Read', 'Calendars.Read'], optional: ['Mail.Send'] });
  expect(matrixScopes('GitHub')).toEqual({ required: ['repo:read', 'issues:write'], optional: [] });
});
