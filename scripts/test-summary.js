#!/usr/bin/env node
// Prints vitest's JSON report (written by `npm test`) as one plain line,
// "N passed, N failed, N skipped", and exits 1 if no test ran or any failed.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2] ?? 'build/test-results.json', 'utf8'));
const passed = report.numPassedTests;
const failed = report.numFailedTests;
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
