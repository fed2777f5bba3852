// Reads vitest's JSON report and prints the one closing line CI understands.
import { readFileSync } from 'node:fs';

/**
 * The parts of vitest's JSON report (Jest's format) this reads.
 * @typedef {{ status: string, assertionResults?: unknown[] }} FileResult
 * @typedef {{ success?: boolean, numPassedTests?: number, numFailedTests?: number, numPendingTests?: number,
 *   numTodoTests?: number, testResults?: FileResult[] }} Report
 */

const file = process.argv[2] ?? '.vitest-results.json';
/** @type {Report} */
let report;
try {
  /** @type {unknown} */
  const raw = JSON.parse(readFileSync(file, 'utf8'));
  report = /** @type {Report} */ (raw);
} catch (e) {
  console.log(
    `no test report at ${file} (${e instanceof Error ? e.message : String(e)}): a check (types, lint, format) failed ` +
      'or the test run did not finish; see above',
  );
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const passed = report.numPassedTests ?? 0;
// A test file that fails to load has no failed tests, only a failed file: count it too.
const brokenFiles = (report.testResults ?? []).filter(
  (f) => f.status === 'failed' && (f.assertionResults ?? []).length === 0,
).length;
const failed = (report.numFailedTests ?? 0) + brokenFiles;
const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
process.exit(report.success && failed === 0 ? 0 : 1);
