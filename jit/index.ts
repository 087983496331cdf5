/**
 * The WebAssembly JIT: the only folder that imports binaryen. Imports the
 * core (`src/`), never the interpreter. The package's `./jit` entry.
 */
export { CompiledFilter, type CompileOptions, compile, decideEngine, decideRecords, jitEngine } from './compiled.js';
export { type JitEngine, moduleEngine } from './instance.js';
export { jumpTargets, type Segment, segments } from './layout.js';
export { type BuiltModule, buildModule, DEFAULT_OPTIMIZE, type OptimizeSettings, RECORD_CAPACITY } from './module.js';
export { standaloneEngine } from './standalone.js';
export { tableEngine } from './tables.js';
