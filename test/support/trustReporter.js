/**
 * Jest reporter: after a run, the trust report of its passing tests (see `trustReport.ts` and
 * docs/promises.md): writes reports/trust-report.md and reports/trust-results.json and prints
 * the coverage per promise. Jest loads reporters without its transform, so tsx loads the TypeScript.
 */
const path = require('node:path');
const { require: requireTs } = require('tsx/cjs/api');

const { readPromises, readVendorMatrix, REPO_ROOT } = requireTs('../../dev/trustDocs.ts', module.filename);
const { renderSummary, trustResults, writeTrustResults, REPORT_FILE } = requireTs(
  '../../dev/trustReport.ts',
  module.filename,
);

class TrustReporter {
  onRunComplete(_contexts, results) {
    const rowIds = readVendorMatrix().map((row) => row.id);
    const passing = results.testResults.flatMap((file) =>
      file.testResults
        .filter((test) => test.status === 'passed')
        .map((test) => ({
          file: path.relative(REPO_ROOT, file.testFilePath),
          title: [...test.ancestorTitles, test.title].join(' › '),
        })),
    );
    const report = trustResults(readPromises(undefined, rowIds), rowIds, passing, results.testResults.length);
    writeTrustResults(report);
    process.stdout.write(`\n${renderSummary(report)}\n— ${path.relative(process.cwd(), REPORT_FILE)}\n`);
  }
}

module.exports = TrustReporter;
