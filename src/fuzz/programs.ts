/**
 * Program and record generators for differential testing. `generateProgram`
 * makes programs the verifier accepts by construction, weighted towards the
 * edges where backends break; `mutateProgram` breaks one in a way the
 * verifier should usually reject; `biasedRecords` aims inputs at the
 * constants a program compares with.
 */
import type { Instruction } from '../instruction.js';
import { ACTIONS } from '../seccomp/actions.js';
import { ARCHES, archNamed } from '../seccomp/arches.js';
import type { SeccompData } from '../seccomp/records.js';
import { chance, int, pick, type Random, u32 } from './random.js';

const ALU_K = [0x04, 0x14, 0x24, 0x34, 0x44, 0x54, 0x64, 0x74, 0xa4];
const ALU_X = [0x0c, 0x1c, 0x2c, 0x3c, 0x4c, 0x5c, 0x6c, 0x7c, 0xac];
const JUMP_K = [0x15, 0x25, 0x35, 0x45];
const JUMP_X = [0x1d, 0x2d, 0x3d, 0x4d];
/** Classic codes seccomp refuses, and codes the kernel does not know at all. */
const REFUSED_CODES = [0x28, 0x30, 0x40, 0x48, 0x50, 0x94, 0x9c, 0xb1, 0x0e, 0x62, 0x08, 0xff, 0x106];

/** Constants where comparisons and arithmetic turn: boundaries, arches, syscall-sized numbers. */
function constant(random: Random): number {
  switch (int(random, 0, 5)) {
    case 0:
      return pick(random, [0, 1, 2, 31, 32, 33, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]);
    case 1:
      return pick(random, ARCHES).auditArch;
    case 2:
      return int(random, 0, 450);
    case 3:
      return 0x40000000 + int(random, 0, 600);
    case 4:
      return int(random, 0, 0xffff);
    default:
      return u32(random);
  }
}

function returnValue(random: Random): number {
  if (chance(random, 0.15)) return u32(random);
  const action = pick(random, Object.values(ACTIONS));
  return (action | (chance(random, 0.5) ? 0 : int(random, 0, 0xffff))) >>> 0;
}

/** A jump offset from `pc` that stays inside a program of `length`, at most 255; often the longest. */
function offset(random: Random, pc: number, length: number): number {
  const room = Math.min(255, length - 2 - pc);
  if (room <= 0) return 0;
  return chance(random, 0.15) ? room : int(random, 0, room);
}

/** One instruction at `pc` of a program of `length` whose last instruction is a RET. */
function instruction(random: Random, pc: number, length: number, seccompShaped: boolean): Instruction {
  const roll = random();
  if (roll < 0.25) {
    const k = seccompShaped && chance(random, 0.7) ? pick(random, [0, 4, 16, 20, 24, 28]) : 4 * int(random, 0, 15);
    return { code: 0x20, jt: 0, jf: 0, k };
  }
  if (roll < 0.5) {
    const jt = offset(random, pc, length);
    const jf = chance(random, 0.15) ? jt : offset(random, pc, length);
    if (chance(random, 0.2)) return { code: pick(random, JUMP_X), jt, jf, k: 0 };
    const code = pick(random, JUMP_K);
    return { code, jt, jf, k: code === 0x45 && chance(random, 0.2) ? 0xffffffff : constant(random) };
  }
  if (roll < 0.55) return { code: 0x05, jt: 0, jf: 0, k: offset(random, pc, length) };
  if (roll < 0.75) {
    if (chance(random, 0.35)) return { code: pick(random, ALU_X), jt: 0, jf: 0, k: 0 };
    if (chance(random, 0.05)) return { code: 0x84, jt: 0, jf: 0, k: 0 };
    const code = pick(random, ALU_K);
    let k = constant(random);
    if (code === 0x64 || code === 0x74) k %= 32; // shifts by K: below 32
    if (code === 0x34 && k === 0) k = 1; // DIV by K: not 0
    return { code, jt: 0, jf: 0, k };
  }
  if (roll < 0.9) {
    const code = pick(random, [0x02, 0x03, 0x60, 0x61, 0x00, 0x01, 0x07, 0x87, 0x80, 0x81]);
    return { code, jt: 0, jf: 0, k: [0x02, 0x03, 0x60, 0x61].includes(code) ? int(random, 0, 15) : code <= 0x01 ? constant(random) : 0 };
  }
  return chance(random, 0.8) ? { code: 0x06, jt: 0, jf: 0, k: returnValue(random) } : { code: 0x16, jt: 0, jf: 0, k: 0 };
}

/**
 * A program the kernel accepts: forward jumps inside it, a RET at the end,
 * only seccomp opcodes with valid operands, and every scratch word it reads
 * stored first (a prefix of `ld #c; st M[k]` before any jump, so the kernel's
 * check sees it on every path). Mostly 1 to `maxLength` instructions; now and
 * then up to 4096.
 */
export function generateProgram(random: Random, maxLength = 48): Instruction[] {
  const seccompShaped = chance(random, 0.6);
  const length = chance(random, 0.01) ? int(random, 256, 4000) : int(random, 1, maxLength);
  const body: Instruction[] = [];
  if (seccompShaped && length > 4) {
    body.push(
      { code: 0x20, jt: 0, jf: 0, k: 4 },
      { code: 0x15, jt: 0, jf: Math.min(255, length - 3), k: pick(random, ARCHES).auditArch },
      { code: 0x20, jt: 0, jf: 0, k: 0 },
    );
  }
  for (let pc = body.length; pc < length - 1; pc++) body.push(instruction(random, pc, length, seccompShaped));
  body.push(chance(random, 0.8) ? { code: 0x06, jt: 0, jf: 0, k: returnValue(random) } : { code: 0x16, jt: 0, jf: 0, k: 0 });
  const read = [...new Set(body.filter((i) => i.code === 0x60 || i.code === 0x61).map((i) => i.k))];
  // Too long for the prefix: read constants instead (ld M[k] -> ld #k, ldx M[k] -> ldx #k).
  if (body.length + 2 * read.length > 4096) return body.map((i) => (i.code === 0x60 || i.code === 0x61 ? { ...i, code: i.code - 0x60 } : i));
  // Jumps are relative, so a prefix leaves every target in place.
  const prefix = read.flatMap((k) => [
    { code: 0x00, jt: 0, jf: 0, k: constant(random) },
    { code: 0x02, jt: 0, jf: 0, k },
  ]);
  return [...prefix, ...body];
}

/** `program` with one change that usually makes the kernel refuse it. */
export function mutateProgram(program: readonly Instruction[], random: Random): Instruction[] {
  const out = program.map((i) => ({ ...i }));
  const at = int(random, 0, out.length - 1);
  const target = out[at]!;
  switch (int(random, 0, 8)) {
    case 0:
      target.code = pick(random, REFUSED_CODES);
      break;
    case 1:
      target.code = int(random, 0, 0xffff);
      break;
    case 2:
      Object.assign(target, { code: pick(random, JUMP_K), jt: int(random, 0, 255), jf: int(random, 0, 255) });
      break;
    case 3:
      Object.assign(target, { code: 0x05, k: chance(random, 0.5) ? u32(random) : out.length - at - 1 });
      break;
    case 4:
      Object.assign(
        target,
        pick(random, [
          { code: 0x34, k: 0 },
          { code: 0x64, k: int(random, 32, 40) },
          { code: 0x74, k: 0xffffffff },
          { code: 0x02, k: int(random, 16, 20) },
          { code: 0x20, k: pick(random, [2, 64, 65, 0xfffff000, 0xfffff040]) },
        ]),
      );
      break;
    case 5:
      out.pop();
      break;
    case 6:
      out.push({ code: 0x00, jt: 0, jf: 0, k: 0 });
      break;
    case 7:
      out.unshift({ code: pick(random, [0x60, 0x61]), jt: 0, jf: 0, k: int(random, 0, 15) });
      break;
    default:
      Object.assign(target, { code: 0x60, k: int(random, 0, 15) });
  }
  return out;
}

/** The arches of the records an x86-64 host can issue to its kernel. */
const X86_ARCHES: readonly number[] = ['x86_64', 'i386'].map((name) => archNamed(name).auditArch);

/**
 * Records aimed at `program`: each word (nr, and both halves of every
 * argument) is often one of the program's compared constants, or one off,
 * or 0 or 0xffffffff. Their arches are drawn from `arches` (audit values;
 * x86_64 and i386 by default), or from every arch, and the program's
 * constants, for 'any'.
 */
export function biasedRecords(program: readonly Instruction[], random: Random, count: number, arches: readonly number[] | 'any' = X86_ARCHES): SeccompData[] {
  const constants = program.filter((i) => (i.code & 0x07) === 0x05 && (i.code & 0x08) === 0 && i.code !== 0x05).map((i) => i.k);
  const word = (): number => {
    if (constants.length > 0 && chance(random, 0.5)) return (pick(random, constants) + pick(random, [0, 0, 1, -1])) >>> 0;
    return chance(random, 0.3) ? pick(random, [0, 0xffffffff, 0x80000000]) : chance(random, 0.5) ? int(random, 0, 500) : u32(random);
  };
  const anyArch = arches === 'any';
  const chosen = anyArch ? ARCHES.map((a) => a.auditArch) : arches;
  return Array.from({ length: count }, () => {
    const arch = chance(random, 0.2) && constants.length > 0 ? pick(random, constants) : pick(random, chosen);
    return {
      nr: word() | 0,
      arch: anyArch || chosen.includes(arch) ? arch : pick(random, chosen),
      instructionPointer: (BigInt(u32(random)) << 32n) | BigInt(u32(random)),
      args: Array.from({ length: 6 }, () => (BigInt(word()) << 32n) | BigInt(word())),
    };
  });
}
