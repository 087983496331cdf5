/**
 * Where a filter module keeps records, results and decision tables in its
 * memory, shared by the module builder and the instance wrapper (which must
 * not load binaryen).
 */
import { SECCOMP_DATA_SIZE } from '../src/seccomp/data.js';

/** WebAssembly's page: memory is sized and grows in whole pages. */
export const WASM_PAGE_SIZE = 65536;
/** The most pages a module's memory may grow to: 4 GiB, all a 32-bit address reaches. */
export const MAX_MEMORY_PAGES = 65536;
/** How many pages hold `bytes`. */
export const pagesFor = (bytes: number): number => Math.ceil(bytes / WASM_PAGE_SIZE);
/** Records a module's memory holds at first: a chunk the batch API fills and decides at a time. */
export const RECORD_CAPACITY = 4096;
/** Where outputs start in memory: after RECORD_CAPACITY records. */
export const OUTPUT_OFFSET = RECORD_CAPACITY * SECCOMP_DATA_SIZE;
/** Where the decision tables start (read-only, one u32 per syscall number): after the outputs. */
export const TABLE_OFFSET = OUTPUT_OFFSET + RECORD_CAPACITY * 4;
/**
 * Where the table kernel (kernel.ts) finds its memory among its imports: the
 * loader makes it with room for the stack's table block, as a module of
 * module.ts is made with room for its own, so that no instance grows memory
 * when it is made.
 */
export const KERNEL_MEMORY = { module: 'env', name: 'memory' } as const;
