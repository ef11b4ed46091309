/**
 * Readers of the two documents the trust checks are built on: the vendor matrix
 * (`docs/vendor-matrix.md`, one table) and the numbered promises (`docs/promises.md`). Both live
 * in this repository; a malformed document throws naming the line, so a broken doc fails loudly
 * instead of proving less.
 */
import fs from 'node:fs';
import path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..');
export const VENDOR_MATRIX_FILE = path.join(REPO_ROOT, 'docs/vendor-matrix.md');
export const TRUST_PROMISES_FILE = path.join(REPO_ROOT, 'docs/promises.md');

const MATRIX_COLUMNS = ['Row id', 'Vendor', 'Scopes', 'Data in', 'Data out', 'Customer control', 'Auth model'];

export interface MatrixRow {
  id: string;
  displayName: string;
  scopes: { required: string[]; optional: string[] };
  dataIn: string;
  dataOut: string;
  customerControl: string;
  authModel: string;
}

export interface TrustPromise {
  id: string;
  title: string;
  /** The rows the promise names, `all` expanded; undefined for a promise that names no row. */
  rows?: string[];
}

const tableCells = (line: string) =>
  line
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((cell) => cell.trim());

const unquote = (cell: string) => cell.replace(/^`(.*)`$/, '$1');

/** A scopes cell: each scope in backticks, ` (optional)` after an optional one; other text qualifies the grant. */
export function parseScopes(cell: string): MatrixRow['scopes'] {
  const scopes: MatrixRow['scopes'] = { required: [], optional: [] };
  for (const [, scope, optional] of cell.matchAll(/`([^`]+)`( \(optional\))?/g)) {
    (optional ? scopes.optional : scopes.required).push(scope!);
  }
  return scopes;
}

export function parseVendorMatrix(markdown: string): MatrixRow[] {
  const lines = markdown.split('\n').filter((line) => line.startsWith('|'));
  const [header, separator, ...body] = lines;
  if (!header || JSON.stringify(tableCells(header)) !== JSON.stringify(MATRIX_COLUMNS))
    throw new Error(`vendor matrix: the table header must be | ${MATRIX_COLUMNS.join(' | ')} |`);
  if (!separator || !/^\|(\s*-+\s*\|)+$/.test(separator))
    throw new Error('vendor matrix: no separator under the header');
  return body.map((line) => {
    const cells = tableCells(line);
    if (cells.length !== MATRIX_COLUMNS.length)
      throw new Error(`vendor matrix: ${cells.length} cells instead of ${MATRIX_COLUMNS.length} in: ${line}`);
    const [id, displayName, scopes, dataIn, dataOut, customerControl, authModel] = cells as [string, ...string[]];
    return {
      id: unquote(id),
      displayName: displayName!,
      scopes: parseScopes(scopes!),
      dataIn: dataIn!,
      dataOut: dataOut!,
      customerControl: customerControl!,
      authModel: authModel!,
    };
  });
}

/** Promises are `### T<n> <title>` sections; a `Rows:` line in a section lists the rows it names. */
export function parsePromises(markdown: string, rowIds: readonly string[]): TrustPromise[] {
  const sections = markdown.split(/^### /m).slice(1);
  return sections.map((section) => {
    const heading = /^(T\d+) (.+)$/m.exec(section.split('\n')[0]!);
    if (!heading)
      throw new Error(`trust promises: a section heading must be "### T<n> <title>": ${section.split('\n')[0]}`);
    const rowsLine = /^Rows: (.+)$/m.exec(section)?.[1]?.trim();
    if (rowsLine === undefined) return { id: heading[1]!, title: heading[2]! };
    const rows = rowsLine === 'all' ? [...rowIds] : rowsLine.split(',').map((row) => row.trim());
    const unknown = rows.filter((row) => !rowIds.includes(row));
    if (unknown.length)
      throw new Error(`trust promises: ${heading[1]} names rows the matrix lacks: ${unknown.join(', ')}`);
    return { id: heading[1]!, title: heading[2]!, rows };
  });
}

export function readVendorMatrix(file = VENDOR_MATRIX_FILE): MatrixRow[] {
  return parseVendorMatrix(fs.readFileSync(file, 'utf8'));
}

export function readPromises(
  file = TRUST_PROMISES_FILE,
  rowIds = readVendorMatrix().map((row) => row.id),
): TrustPromise[] {
  return parsePromises(fs.readFileSync(file, 'utf8'), rowIds);
}
