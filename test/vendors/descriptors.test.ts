/**
 * T1: every wave-1 descriptor requests exactly the scopes of its row in the published vendor
 * matrix (the trust page in `../shared/seeds/`), read from the page text itself.
 *
 * The page's table cells are glued together in its text ("Sites.Selected, Files.ReadWrite.SelectedDrawings, …"),
 * so the check renders our scopes the way the page writes them and asserts that the row is
 * "vendor name + exactly that cell + the next cell", where the next cell is prose that cannot
 * continue a scope list. A scope added to or dropped from either side fails.
 */
import fs from 'node:fs';
import path from 'node:path';
import { githubDescriptors } from '../../activities/vendors/github';
import { jiraDescriptors } from '../../activities/vendors/jira';
import { microsoftDescriptors } from '../../activities/vendors/microsoft';
import type { VendorDescriptor, VendorId } from '../../activities/vendors/types';

const SEEDS = path.resolve(__dirname, '../../../shared/seeds');
const MATRIX = fs
  .readFileSync(
    path.join(
      SEEDS,
      fs.readdirSync(SEEDS).find((name) => name.startsWith('000_'))!,
    ),
    'utf8',
  )
  .split('\n');

/** What the page writes after the scope list itself, per row: qualifiers, not scopes we request. */
const CELL_SUFFIX: Partial<Record<VendorId, string>> = {
  github: ' (per repo)',
  entra: ' (+ SAML attributes)',
};

const WAVE_1: readonly VendorDescriptor[] = [
  ...githubDescriptors,
  ...jiraDescriptors,
  ...Object.values(microsoftDescriptors),
];

function matrixRow(displayName: string): string {
  const row = MATRIX.find((line) => line.startsWith(displayName) && !line.startsWith('VendorScopes'));
  if (!row) throw new Error(`the matrix has no row for ${displayName}`);
  return row.slice(displayName.length);
}

const renderCell = (descriptor: VendorDescriptor) =>
  [...descriptor.scopes.required, ...descriptor.scopes.optional.map((scope) => `${scope} (optional)`)].join(', ') +
  (CELL_SUFFIX[descriptor.id] ?? '');

test('the wave-1 rows are the seven of the issue', () => {
  expect(WAVE_1.map((d) => d.id).sort()).toEqual([
    'entra',
    'github',
    'jira',
    'microsoft365',
    'onedrive',
    'sharepoint',
    'teams',
  ]);
});

test.each(WAVE_1.map((descriptor) => [descriptor.displayName, descriptor] as const))(
  'T1: %s descriptor scopes are exactly the matrix row',
  (_name, descriptor) => {
    const rest = matrixRow(descriptor.displayName);
    const cell = renderCell(descriptor);
    expect(rest.slice(0, cell.length)).toBe(cell);
    // What follows is the Data-in cell (capitalised prose), not another scope of the list.
    expect(rest.slice(cell.length)).toMatch(/^[A-Z][a-z]/);
  },
);

test('T1: the check fails for a widened or narrowed scope list', () => {
  const github = githubDescriptors[0]!;
  const widened = { ...github, scopes: { required: [...github.scopes.required, 'admin:org'], optional: [] } };
  const narrowed = { ...github, scopes: { required: github.scopes.required.slice(0, 1), optional: [] } };
  const rest = matrixRow(github.displayName);
  expect(rest.startsWith(renderCell(widened))).toBe(false);
  expect(rest.slice(renderCell(narrowed).length)).not.toMatch(/^[A-Z][a-z]/);
});

test('T1: SharePoint never carries a tenant-wide file scope that would defeat Sites.Selected', () => {
  const all = [...microsoftDescriptors.sharepoint.scopes.required, ...microsoftDescriptors.sharepoint.scopes.optional];
  expect(all.some((scope) => /\.All$/.test(scope))).toBe(false);
});

test('T9 T19: identity providers are federated sign-in only and receive nothing', () => {
  expect(microsoftDescriptors.entra.authKind).toBe('federated-identity');
  expect(microsoftDescriptors.entra.dataOut).toEqual([]);
});
