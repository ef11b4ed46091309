/**
 * `npm run trust-report`: prints the trust report of the last Jest run (reports/trust-results.json)
 * without running any test.
 */
import path from 'node:path';
import { readTrustResults, renderSummary, REPORT_FILE, RESULTS_FILE } from '../dev/trustReport';

const results = readTrustResults();
if (!results) {
  process.stderr.write(
    `No trust results yet (${path.relative(process.cwd(), RESULTS_FILE)} is missing): run \`npm test\` (or \`npx jest <files>\`) first.\n`,
  );
  process.exitCode = 1;
} else {
  process.stdout.write(`${renderSummary(results)}\n— ${path.relative(process.cwd(), REPORT_FILE)}\n`);
}
