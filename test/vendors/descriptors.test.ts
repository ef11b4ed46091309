/**
 * T1: every vendor descriptor asks exactly the scopes of its row in the vendor matrix
 * (`docs/vendor-matrix.md`), and the matrix has exactly one row per `VendorId`.
 *
 * These tests name no row on purpose: a descriptor matching its row is half of T1; the other half
 * (the connector asks exactly the descriptor's scopes and refuses a broader grant) is proven per row
 * by the connector and end-to-end tests, which carry the row tags the trust report counts.
 */
import { catalogRows } from '../../activities/vendors/catalog';
import { microsoftDescriptors } from '../../activities/vendors/microsoft';
import type { VendorDescriptor, VendorId } from '../../activities/vendors/types';
import { readVendorMatrix, type MatrixRow } from '../../dev/trustDocs';

/** Every row of the vendor catalog, built or planned: the one list these checks walk. */
const DESCRIPTORS: readonly VendorDescriptor[] = catalogRows({}).map((row) => row.descriptor);

/** Every `VendorId`, checked by the compiler: a missing or extra key does not typecheck. */
const VENDOR_IDS = Object.keys({
  microsoft365: true,
  sharepoint: true,
  onedrive: true,
  teams: true,
  entra: true,
  'google-drive': true,
  'google-workspace': true,
  slack: true,
  okta: true,
  'autodesk-acc': true,
  'autodesk-docs': true,
  'autodesk-tandem': true,
  procore: true,
  'primavera-p6': true,
  sap: true,
  'oracle-erp': true,
  jira: true,
  github: true,
} satisfies Record<VendorId, true>);

const MATRIX = readVendorMatrix();

function matrixRow(vendor: VendorId): MatrixRow {
  const row = MATRIX.find((candidate) => candidate.id === vendor);
  if (!row) throw new Error(`the vendor matrix has no row ${vendor}`);
  return row;
}

const sorted = (scopes: readonly string[]) => [...scopes].sort();

/** The descriptor's scopes as the matrix writes them: required and optional apart, order aside. */
const scopesOf = (descriptor: VendorDescriptor) => ({
  required: sorted(descriptor.scopes.required),
  optional: sorted(descriptor.scopes.optional),
});

const matrixScopes = (row: MatrixRow) => ({
  required: sorted(row.scopes.required),
  optional: sorted(row.scopes.optional),
});

test('the matrix and the catalog have exactly one row per VendorId', () => {
  expect(sorted(MATRIX.map((row) => row.id))).toEqual(sorted(VENDOR_IDS));
  expect(sorted(DESCRIPTORS.map((descriptor) => descriptor.id))).toEqual(sorted(VENDOR_IDS));
});

test('every matrix row lists at least one scope and says what flows and who controls it', () => {
  for (const row of MATRIX) {
    expect({ id: row.id, scopes: row.scopes.required.length > 0 }).toEqual({ id: row.id, scopes: true });
    for (const cell of [row.displayName, row.dataIn, row.dataOut, row.customerControl, row.authModel])
      expect(cell).not.toBe('');
  }
});

test.each(DESCRIPTORS.map((descriptor) => [descriptor.id, descriptor] as const))(
  'T1: the %s descriptor asks exactly the scopes of its matrix row, under the row’s vendor name',
  (_id, descriptor) => {
    const row = matrixRow(descriptor.id);
    expect(descriptor.displayName).toBe(row.displayName);
    expect(scopesOf(descriptor)).toEqual(matrixScopes(row));
  },
);

test('T1: the check fails for a widened, a narrowed or a no-longer-optional scope list', () => {
  const github = matrixRow('github');
  const m365 = matrixRow('microsoft365');
  const scopes = (required: string[], optional: string[] = []) => ({ required: sorted(required), optional });
  expect(scopes([...github.scopes.required, 'admin:org'])).not.toEqual(matrixScopes(github));
  expect(scopes(github.scopes.required.slice(1))).not.toEqual(matrixScopes(github));
  expect(scopes([...m365.scopes.required, ...m365.scopes.optional])).not.toEqual(matrixScopes(m365));
});

test('T1: SharePoint never carries a tenant-wide file scope that would defeat Sites.Selected', () => {
  const all = [...microsoftDescriptors.sharepoint.scopes.required, ...microsoftDescriptors.sharepoint.scopes.optional];
  expect(all.some((scope) => /\.All$/.test(scope))).toBe(false);
});

test.each(['entra', 'google-workspace', 'okta'] as const)(
  'T9 T19: the identity provider %s is federated sign-in only and receives nothing',
  (vendor) => {
    const descriptor = DESCRIPTORS.find((candidate) => candidate.id === vendor)!;
    expect(descriptor.authKind).toBe('federated-identity');
    expect(descriptor.dataOut).toEqual([]);
  },
);
