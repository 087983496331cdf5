/**
 * Side-by-side measurement of the engines on every sample: decisions per
 * second for the interpreter and the JIT batch (and their ratio, measured in
 * the same run), and compile latency (verify + compile + instantiate), for
 * each Binaryen optimize level. Decisions are checked equal before timing.
 *
 *   node dist/bench/engines.js [RECORDS] [LEVELS]     e.g. 1000000 0,1,2,3
 */
import { readFileSync } from 'node:fs';
import { interpret } from '../interp/interpret.js';
import { CompiledFilter } from '../jit/compiled.js';
import { buildModule } from '../jit/module.js';
import { decodeRaw } from '../src/codecs/raw.js';
import { generateRecords } from '../src/fuzz/traces.js';
import { verify } from '../src/verifier.js';
import { SAMPLE_FILTERS } from './samples.js';

const count = Number(process.argv[2] ?? 1_000_000);
const levels = (process.argv[3] ?? '0,1,2,3').split(',').map(Number);
const records = generateRecords(count, 'realistic', 1);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function time(fn: () => void, rounds: number): number {
  const runs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const start = performance.now();
    fn();
    runs.push(performance.now() - start);
  }
  return median(runs);
}

console.log(`${count} realistic x86_64 records; medians of several rounds; ratio = JIT batch / interpreter, same run\n`);
console.log('filter            O  compile ms  JIT M/s  interp M/s  ratio');
for (const sample of SAMPLE_FILTERS) {
  const bytes = readFileSync(sample.path);
  const filter = verify(decodeRaw(bytes));
  const interpMs = time(() => {
    for (let i = 0; i < count; i++) interpret(filter, records.subarray(i * 64, i * 64 + 64), 'le');
  }, 3);
  for (const level of levels) {
    const optimize = { level, shrink: 0 };
    const build = () => {
      const binary = buildModule([verify(decodeRaw(bytes))], 'le', { optimize }).binary;
      return new CompiledFilter(binary, new WebAssembly.Module(binary), 'le', 1);
    };
    build(); // warm Binaryen and V8 up; a fresh process pays this once (docs/design.md)
    const compileMs = time(build, 7);
    const compiled = build();
    const out = compiled.decideBatch(records);
    for (let i = 0; i < count; i += 997) {
      if (out[i] !== interpret(filter, records.subarray(i * 64, i * 64 + 64), 'le'))
        throw new Error(`${sample.name}: JIT and interpreter disagree on record ${i}`);
    }
    const jitMs = time(() => compiled.decideBatch(records, out), 5);
    const rate = (ms: number) => (count / ms / 1000).toFixed(2).padStart(8);
    console.log(
      `${sample.name.padEnd(17)} ${level}  ${compileMs.toFixed(1).padStart(10)}  ${rate(jitMs)}  ${rate(interpMs).padStart(10)}  ${(interpMs / jitMs).toFixed(1).padStart(5)}x`,
    );
  }
}
