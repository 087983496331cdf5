/**
 * The reference interpreter as an engine: every filter runs on every record.
 * (The decision tables' engine, which runs filters from their resume points,
 * is the table kernel in jit/tables.ts.)
 */
import type { MakeEngine } from '../src/engine.js';
import { interpretBatch } from './stack.js';

/** The reference interpreter: every filter runs on every record. */
export const interpreterEngine: MakeEngine = (filters) => ({ name: 'interp', decide: (batch) => interpretBatch(filters, batch) });
