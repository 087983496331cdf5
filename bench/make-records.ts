/**
 * Writes a trace of x86_64 seccomp_data records for `cbpf eval --records`.
 * Usage: node dist/bench/make-records.js COUNT OUT_FILE [realistic|random] [SEED]
 */
import { writeFileSync } from 'node:fs';
import { generateRecords, type RecordMix } from '../src/fuzz/traces.js';

const [countText, out, mix = 'realistic', seed = '1'] = process.argv.slice(2);
const count = Number(countText);
if (!Number.isSafeInteger(count) || count < 0 || out === undefined || (mix !== 'realistic' && mix !== 'random')) {
  console.error('usage: node dist/bench/make-records.js COUNT OUT_FILE [realistic|random] [SEED]');
  process.exit(2);
}
writeFileSync(out, generateRecords(count, mix as RecordMix, Number(seed)));
console.log(`wrote ${count} ${mix} records (${count * 64} bytes) to ${out}`);
