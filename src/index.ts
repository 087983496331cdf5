/**
 * cbpf's public API.
 *
 * Dependency rule: the core (`src/` less `src/cli/` and `src/fuzz/`) imports
 * neither `interp/` nor `jit/`; `interp/` and `jit/` import the core and never
 * each other; only the CLI, the fuzzer, tests and benchmarks import both. Only
 * `jit/` imports binaryen, so importing this module never loads it. The
 * interpreter is the package's `./interp` entry.
 *
 * Every export below is deliberate: add to this list, never `export *`.
 */
export * as opcodes from './opcodes.js';
export { BPF_MAXINSNS, BPF_MEMWORDS } from './opcodes.js';
export {
  stmt,
  jump,
  isJump,
  isConditionalJump,
  isReturn,
  successors,
  programsEqual,
  checkFields,
  type Instruction,
  type Program,
} from './instruction.js';
export {
  CbpfError,
  DecodeError,
  ParseError,
  EncodeError,
  InputError,
  type DecodeErrorCode,
  type ParseErrorCode,
  type EncodeErrorCode,
  type InputErrorCode,
} from './errors.js';
export { SPELLINGS, spellingOf, opcodeFor, type Spelling, type OperandForm } from './mnemonics.js';
export { analyzeContext, type PcContext, type Accumulator } from './context.js';
export { formatAsm, formatInstruction, formatConstant, explain, type FormatAsmOptions } from './disasm.js';
export { summarizeProgram, type ProgramSummary } from './summary.js';
export {
  decisionTable,
  lookupDecision,
  archDecisions,
  resumePoints,
  constantValue,
  NOT_CONSTANT,
  type DecisionTable,
  type ArchDecisions,
  type ResumePoint,
} from './decision-table.js';
export { kernelActionCache, kernelCacheOutcome, type ArchCache, type CacheOutcome, type MissedSyscall } from './action-cache.js';
export {
  verify,
  verifyStack,
  ebpfLength,
  VerifyError,
  MAX_INSNS_PER_PATH,
  type VerifiedProgram,
  type VerifyOptions,
  type VerifyRule,
  type VerifyErrno,
} from './verifier.js';

export { decodeRaw, encodeRaw, SOCK_FILTER_SIZE } from './codecs/raw.js';
export { parseJson, formatJson } from './codecs/json.js';
export { parseDdd, formatDdd } from './codecs/ddd.js';
export { parseC, formatC } from './codecs/c.js';
export { assemble, type AssembleOptions } from './codecs/asm.js';
export { FORMATS, isFormat, type Format } from './codecs/format-names.js';
export { detectFormat, readProgram, writeProgram, type FormatOptions } from './codecs/formats.js';

export {
  ARCHES,
  archByName,
  archByAuditArch,
  archByConstant,
  byteOrderOf,
  AUDIT_ARCH_LE,
  X32_SYSCALL_BIT,
  type Arch,
  type ByteOrder,
} from './seccomp/arches.js';
export { abiOf, syscallName, syscallNumber } from './seccomp/syscalls.js';
export {
  ACTIONS,
  SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_DATA,
  actionName,
  formatAction,
  describeReturnValue,
  hexValue,
  type ActionName,
} from './seccomp/actions.js';
export {
  SECCOMP_DATA_SIZE,
  SECCOMP_DATA_NR,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_IP,
  SECCOMP_DATA_ARGS,
  fieldOffset,
  halfOffset,
  wordName,
} from './seccomp/data.js';
export { errnoName, errnoNumber } from './seccomp/errno.js';
export { OracleUnavailable, OracleError, oracleUnavailableReason } from './kernel/helper.js';
export { kernelAccepts, kernelDecide, kernelInstallStack, recordAsIssued, type KernelDecisions } from './kernel/oracle.js';
export { compareAcceptance, compareDecisions, verifierVerdict, kernelVerdict, type AcceptanceMismatch, type DecisionMismatch } from './kernel/parity.js';
export { rewriteForPass, PASS_SHIFTS, MAX_REWRITABLE_LENGTH } from './kernel/rewrite.js';
export { resolveStack, describeEffect, MAX_ERRNO, type Effect } from './seccomp/actions.js';
export {
  encodeSeccompData,
  decodeSeccompData,
  writeSeccompData,
  byteOrderOfAuditArch,
  readRecordStream,
  packRecords,
  parseRecordJson,
  parseRecordLines,
  formatRecordJson,
  recordBytes,
  recordByteOrder,
  type SeccompData,
  type RecordBatch,
} from './seccomp/records.js';
