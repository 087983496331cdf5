/**
 * The trace evaluator and the short library API: the package's `./eval`
 * entry. Imports the core and the engines; binaryen loads only in a
 * background thread, when a run compiles the JIT.
 */
export { ENGINES, type EngineKind, loadEngine } from './engines.js';
export { decideTrace, evaluate } from './evaluate.js';
export {
  DECISION_FORMATS,
  type DecisionFormat,
  type DecisionSink,
  EVAL_ENGINES,
  type EvalEngine,
  type EvalOptions,
  type EvalReport,
  type EvalTiming,
  RECORD_FORMATS,
  type RecordFormat,
  type TierCounts,
  type TraceSource,
} from './options.js';
export { type Decision, type FilterSource, type LoadOptions, loadStack, Stack } from './stack.js';
export { formatSummary, type SummaryResult } from './summary.js';
