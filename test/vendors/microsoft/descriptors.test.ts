/**
 * T1 for the Microsoft rows: each descriptor's scopes, rendered as the trust page writes them, are
 * the whole scopes cell of its matrix row (read from the published page itself). The cell is glued
 * to the "Data in" cell in the page text, so the check is "row = name + our scopes + a cell that
 * does not continue the list".
 */
import fs from 'node:fs';
import path from 'node:path';
import { microsoftDescriptors } from '../../../activities/vendors/microsoft';

const SEEDS = path.resolve(__dirname, '../../../../shared/seeds');
const MATRIX = fs.readFileSync(path.join(SEEDS, fs.readdirSync(SEEDS).find((name) => name.startsWith('000_'))!), 'utf8').split('\n');
/** The Entra row's cell names SAML attributes beside its OIDC scopes: not OAuth scopes we request. */
const CELL_SUFFIX: Partial<Record<keyof typeof microsoftDescriptors, string>> = { entra: ' (+ SAML attributes)' };

test.each(Object.entries(microsoftDescriptors))('T1: %s descriptor scopes are exactly the matrix row scopes cell', (id, descriptor) => {
  const row = MATRIX.find((line) => line.startsWith(descriptor.displayName) && !line.startsWith('VendorScopes'));
  expect(row).toBeDefined();
  const cell = [...descriptor.scopes.required, ...descriptor.scopes.optional.map((scope) => `${scope} (optional)`)].join(', ') + (CELL_SUFFIX[id as keyof typeof microsoftDescriptors] ?? '');
  const rest = row!.slice(descriptor.displayName.length);
  expect(rest.startsWith(cell)).toBe(true);
  // What follows is the Data-in cell (capitalised prose), not another scope of the list.
  expect(rest.slice(cell.length)).toMatch(/^[A-Z][a-z]/);
});

test('T1: SharePoint never carries a tenant-wide file scope that would defeat Sites.Selected', () => {
  const all = [...microsoftDescriptors.sharepoint.scopes.required, ...microsoftDescriptors.sharepoint.scopes.optional];
  expect(all.some((scope) => /\.All$/.test(scope))).toBe(false);
});
