/**
 * cbpf's public API.
 *
 * Dependency rule (test/layering.test.ts): the core (`src/` less `src/cli/`)
 * imports neither `interp/`, `jit/`, `eval/` nor `src/cli/`; `interp/` and
 * `jit/` import only the core; `eval/` imports the core and the engines; only
 * `src/cli/` sees everything. Only `jit/` imports binaryen, so importing this
 * module never loads it. The interpreter is the package's `./interp` entry,
 * the JIT `./jit`, and the trace evaluator with the short API `./eval`.
 *
 * Every export below is deliberate: add to this list, never `export *`.
 */

export { type ArchCache, type CacheOutcome, kernelActionCache, kernelCacheOutcome, type MissedSyscall } from './action-cache.js';
export { type AssembleOptions, assemble } from './codecs/asm.js';
export { formatC, parseC } from './codecs/c.js';
export { formatDdd, parseDdd } from './codecs/ddd.js';
export { FORMATS, type Format, INPUT_FORMATS, type InputFormat, isFormat } from './codecs/format-names.js';
export { detectFormat, type FormatOptions, MAX_FILTER_BYTES, readProgram, writeProgram } from './codecs/formats.js';
export { formatJson, parseJson } from './codecs/json.js';
export { decodeRaw, encodeRaw, SOCK_FILTER_SIZE } from './codecs/raw.js';
export { type Accumulator, analyzeContext, type PcContext } from './context.js';
export {
  type ArchDecisions,
  archDecisions,
  constantValue,
  type DecisionTable,
  decisionTable,
  lookupDecision,
  NOT_CONSTANT,
  type ResumePoint,
  resumePoints,
} from './decision-table.js';
export { explain, type FormatAsmOptions, formatAsm, formatConstant, formatInstruction } from './disasm.js';
export { ENGINE_NAMES, type Engine, type EngineName, type MakeEngine } from './engine.js';
export {
  CbpfError,
  DecodeError,
  type DecodeErrorCode,
  EncodeError,
  type EncodeErrorCode,
  InputError,
  type InputErrorCode,
  ParseError,
  type ParseErrorCode,
} from './errors.js';
export {
  checkFields,
  type Instruction,
  isConditionalJump,
  isJump,
  isReturn,
  jump,
  type Program,
  programsEqual,
  stmt,
  successors,
} from './instruction.js';
export { OracleError, OracleUnavailable, oracleUnavailableReason } from './kernel/helper.js';
export { type KernelDecisions, kernelAccepts, kernelDecide, kernelInstallStack, recordAsIssued } from './kernel/oracle.js';
export { type AcceptanceMismatch, compareAcceptance, compareDecisions, type DecisionMismatch, kernelVerdict, verifierVerdict } from './kernel/parity.js';
export { MAX_REWRITABLE_LENGTH, PASS_SHIFTS, rewriteForPass } from './kernel/rewrite.js';
export { type OperandForm, opcodeFor, SPELLINGS, type Spelling, spellingOf } from './mnemonics.js';
export * as opcodes from './opcodes.js';
export { BPF_MAXINSNS, BPF_MEMWORDS } from './opcodes.js';
export {
  buildFilter,
  type CompiledProfile,
  compileProfile,
  compileProfileText,
  contextOf,
  decideProfile,
  knownSyscall,
  type Profile,
  type ProfileContext,
  ProfileContextError,
  type ProfileContextOptions,
  type ProfileFilter,
  parseProfile,
  type ResolutionReport,
  type ResolvedProfile,
  resolutionReport,
  resolveProfile,
} from './profile/index.js';
export {
  ACTIONS,
  type ActionName,
  actionName,
  describeEffect,
  describeReturnValue,
  type Effect,
  formatAction,
  hexValue,
  MAX_ERRNO,
  resolveStack,
  SECCOMP_RET_ACTION_FULL,
  SECCOMP_RET_DATA,
} from './seccomp/actions.js';
export {
  ARCHES,
  type Arch,
  AUDIT_ARCH_LE,
  archByAuditArch,
  archByConstant,
  archByName,
  archNamed,
  type ByteOrder,
  byteOrderOf,
  X32_SYSCALL_BIT,
} from './seccomp/arches.js';
export {
  fieldOffset,
  halfOffset,
  SECCOMP_DATA_ARCH,
  SECCOMP_DATA_ARGS,
  SECCOMP_DATA_IP,
  SECCOMP_DATA_NR,
  SECCOMP_DATA_SIZE,
  wordName,
} from './seccomp/data.js';
export { errnoName, errnoNumber } from './seccomp/errno.js';
export { formatRecordJson, parseRecordJson, parseRecordLines, type RecordFields, recordFromFields } from './seccomp/record-json.js';
export {
  byteOrderOfAuditArch,
  decodeSeccompData,
  encodeSeccompData,
  packRecords,
  type RecordBatch,
  readRecordStream,
  recordByteOrder,
  recordBytes,
  type SeccompData,
  writeSeccompData,
} from './seccomp/records.js';
export { abiOf, syscallName, syscallNumber } from './seccomp/syscalls.js';
export { type ProgramSummary, summarizeProgram } from './summary.js';
export {
  ebpfLength,
  MAX_INSNS_PER_PATH,
  type VerifiedProgram,
  type VerifyErrno,
  VerifyError,
  type VerifyOptions,
  type VerifyRule,
  verify,
  verifyStack,
} from './verifier.js';
