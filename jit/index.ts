/**
 * The WebAssembly JIT: the only folder that imports binaryen. Imports the
 * core (`src/`), never the interpreter. The package's `./jit` entry.
 */
export { compile, decideRecords, CompiledFilter, type CompileOptions } from './compiled.js';
export { buildModule, DEFAULT_OPTIMIZE, RECORD_CAPACITY, type OptimizeSettings, type BuiltModule } from './module.js';
export { jumpTargets, segments, type Segment } from './layout.js';
