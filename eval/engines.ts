/**
 * The one list of engines. Every consumer takes its engines from here: the
 * evaluator's tiers, the fuzzer, `kernel-check`, the conformance corpus and
 * `bench`. The JIT's engines load binaryen, so they are loaded on demand.
 */
import { interpreterEngine } from '../interp/engines.js';
import { tableEngine } from '../jit/tables.js';
import type { EngineName, MakeEngine } from '../src/engine.js';

/** An engine of the list: its name, what it is, and how to load its maker. */
export interface EngineKind {
  readonly name: EngineName;
  readonly description: string;
  load(): Promise<MakeEngine>;
}

/** Every engine, in the order of ENGINE_NAMES. */
export const ENGINES: readonly EngineKind[] = [
  { name: 'interp', description: 'the reference interpreter', load: async () => interpreterEngine },
  {
    name: 'table',
    description: 'decision tables, and the filters from resume points where they cannot say, in one generic wasm kernel (no compile)',
    load: async () => tableEngine,
  },
  {
    name: 'jit',
    description: 'the JIT: WebAssembly compiled by Binaryen, batches decided inside wasm',
    load: async () => (await import('../jit/compiled.js')).jitEngine,
  },
  {
    name: 'standalone',
    description: 'the module `cbpf compile` writes, run through its documented ABI only',
    load: async () => (await import('../jit/standalone.js')).standaloneEngine,
  },
];

/** The maker of the engine named `name`. */
export async function loadEngine(name: EngineName): Promise<MakeEngine> {
  const kind = ENGINES.find((engine) => engine.name === name);
  if (!kind) throw new Error(`no engine named ${name}`);
  return kind.load();
}
