/**
 * The reference interpreter, cbpf's oracle. Imports only the core (`src/`),
 * never the JIT.
 */

export { interpreterEngine } from './engines.js';
export { type CountedRun, interpret, interpretCounting, interpretFrom, interpretWithTrace, type Trace, type TraceStep } from './interpret.js';
export { interpretBatch, interpretStack, type StackDecision } from './stack.js';
