/**
 * Writes a trace of x86_64 seccomp_data records, as `cbpf records` does (this
 * runs that command): kept for the repository's scripts, which call it by
 * this name. It is a script that runs when loaded, so nothing imports it and
 * the package does not ship it.
 * Usage: node dist/bench/make-records.js COUNT OUT_FILE [realistic|random] [SEED]
 */
import { main } from '../src/cli/main.js';

const [count, out, mix = 'realistic', seed = '1'] = process.argv.slice(2);
if (count === undefined || out === undefined) {
  console.error('usage: node dist/bench/make-records.js COUNT OUT_FILE [realistic|random] [SEED]   (or: cbpf records --generate COUNT -o OUT_FILE)');
  process.exitCode = 2;
} else {
  process.exitCode = await main(['records', '--generate', count, '--mix', mix, '--seed', seed, '-o', out]);
}
