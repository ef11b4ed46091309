/**
 * The trust report counts honestly: a promise that names rows is proven only when every row it names
 * has a passing test naming both; the documents it reads are this repository's and parse strictly.
 */
import { parsePromises, parseVendorMatrix, readPromises, readVendorMatrix } from '../../dev/trustDocs';
import { renderSummary, rowTags, trustResults } from '../../dev/trustReport';

const ROWS = ['github', 'jira', 'sharepoint'];
const PROMISES = parsePromises(
  [
    '### T1 Least privilege',
    'Rows: all',
    '### T3 Cache with a TTL',
    'No rows here.',
    '### T21 Webhooks',
    'Rows: github, jira',
  ].join('\n'),
  ROWS,
);
const test_ = (title: string) => ({ file: 'test/x.test.ts', title });

test('row tags are bracketed row-shaped ids, one or several per bracket', () => {
  expect(rowTags('T1 T5 [github]: x › [sharepoint, onedrive] y [Not a row] [x|y]')).toEqual([
    'github',
    'sharepoint',
    'onedrive',
  ]);
});

test('a row-naming promise counts only the rows a passing test names together with it', () => {
  const results = trustResults(
    PROMISES,
    ROWS,
    [test_('T1 [github]: a'), test_('T1: untagged proves no row'), test_('T21 [jira]: b'), test_('T5 [sharepoint]: c')],
    1,
  );
  const [t1, t3, t21] = results.promises;
  expect(t1).toMatchObject({
    proven: false,
    rows: { named: ROWS, covered: ['github'], uncovered: ['jira', 'sharepoint'] },
  });
  expect(t1!.tests).toEqual(['test/x.test.ts: T1 [github]: a']);
  expect(t3).toMatchObject({ proven: false, tests: [] });
  expect(t21).toMatchObject({ proven: false, rows: { covered: ['jira'], uncovered: ['github'] } });
  expect(renderSummary(results)).toContain('T1   1/3 rows   uncovered: jira, sharepoint');
});

test('a promise is proven when every named row is covered; one without rows by any passing test', () => {
  const results = trustResults(
    PROMISES,
    ROWS,
    [test_('T1 T21 [github, jira]: a'), test_('d › T1 [sharepoint]: b'), test_('T3: c'), test_('T21 [gitlab]: d')],
    2,
  );
  expect(results.promises.map((p) => [p.id, p.proven])).toEqual([
    ['T1', true],
    ['T3', true],
    ['T21', true],
  ]);
  expect(results.unknownRowTags).toEqual(['gitlab']);
  expect(renderSummary(results)).toMatch(/^T21 {2}2\/2 rows$/m);
});

test('malformed documents fail loudly instead of proving less', () => {
  expect(() => parseVendorMatrix('| Id | Vendor |\n|---|---|\n| `x` | X |')).toThrow(/header/);
  expect(() => parsePromises('### T4 Disconnect\nRows: github, gitlab', ROWS)).toThrow(/gitlab/);
  expect(() => parsePromises('### Disconnect', ROWS)).toThrow(/heading/);
});

test('the repository’s own documents: 18 matrix rows, 25 numbered promises, and the row-naming promises of the issue', () => {
  const rows = readVendorMatrix();
  const promises = readPromises();
  expect(rows).toHaveLength(18);
  expect(promises.map((p) => p.id)).toEqual(Array.from({ length: 25 }, (_, i) => `T${i + 1}`));
  expect(promises.filter((p) => p.rows).map((p) => p.id)).toEqual(['T1', 'T4', 'T5', 'T9', 'T12', 'T18', 'T19', 'T21']);
  for (const id of ['T1', 'T18', 'T19']) expect(promises.find((p) => p.id === id)!.rows).toHaveLength(18);
  // T9 names the rows whose vendor offers OAuth or federated sign-in: those of T5.
  expect(promises.find((p) => p.id === 'T9')!.rows).toEqual(promises.find((p) => p.id === 'T5')!.rows);
});
