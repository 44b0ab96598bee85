// Prints vitest's JSON report as "N passed, N failed" on its own line (.ci/run).
import { readFileSync } from 'node:fs';

try {
  const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  console.log(`${report.numPassedTests} passed, ${report.numFailedTests} failed`);
  process.exit(report.numTotalTests > 0 && report.success ? 0 : 1);
} catch (err) {
  console.log('0 passed, 1 failed');
  console.error(`no test report: ${err.message}`);
  process.exit(1);
}
