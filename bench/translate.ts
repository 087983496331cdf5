/**
 * A verified filter translated to source code, for the benchmark's
 * competitors: JavaScript (run with `new Function`, the obvious alternative a
 * JS user would write) and C (compiled with `gcc -O2`, the native roofline).
 * Both are straight-line code with numeric literals only: one labelled
 * statement per instruction, forward jumps as `goto` (C) or a `switch` on the
 * pc inside a loop (JavaScript). Semantics follow interp/interpret.ts.
 */
import type { VerifiedProgram } from '../src/verifier.js';

/** How a language spells what differs between the two. */
interface Dialect {
  /** The 32-bit word of seccomp_data at byte offset k. */
  load(k: number): string;
  /** An unsigned 32-bit result of an expression (JS needs `>>> 0`). */
  u32(expression: string): string;
  /** The low 32 bits of a product. */
  mul(left: string, right: string): string;
  /** A logical right shift. */
  shr(left: string, right: string): string;
  /** An unsigned 32-bit literal. */
  literal(k: number): string;
  /** Scratch word i. */
  scratch(i: number): string;
  /** Go to instruction `target`. */
  jump(target: number): string;
  /** Where instruction `pc` starts. */
  label(pc: number): string;
}

/** The body of the decision: one statement per instruction, returning the filter's value. */
function statements(program: VerifiedProgram, d: Dialect): string[] {
  return program.instructions.map(({ code, jt, jf, k }, pc) => {
    const next = pc + 1;
    const branch = (condition: string): string => {
      if (jt === jf) return d.jump(next + jt);
      return `if (${condition}) ${d.jump(next + jt)} else ${d.jump(next + jf)}`;
    };
    const K = d.literal(k);
    const body = ((): string => {
      // biome-ignore format: one line per opcode, read as a table
      switch (code) {
        case 0x20: return `a = ${d.load(k)};`;
        case 0x80: return 'a = 64;';
        case 0x81: return 'x = 64;';
        case 0x00: return `a = ${K};`;
        case 0x01: return `x = ${K};`;
        case 0x60: return `a = ${d.scratch(k)};`;
        case 0x61: return `x = ${d.scratch(k)};`;
        case 0x02: return `${d.scratch(k)} = a;`;
        case 0x03: return `${d.scratch(k)} = x;`;
        case 0x04: return `a = ${d.u32(`a + ${K}`)};`;
        case 0x0c: return `a = ${d.u32('a + x')};`;
        case 0x14: return `a = ${d.u32(`a - ${K}`)};`;
        case 0x1c: return `a = ${d.u32('a - x')};`;
        case 0x24: return `a = ${d.mul('a', K)};`;
        case 0x2c: return `a = ${d.mul('a', 'x')};`;
        case 0x34: return `a = ${d.u32(`a / ${K}`)};`;
        case 0x3c: return `if (x == 0) return 0; a = ${d.u32('a / x')};`;
        case 0x44: return `a = ${d.u32(`a | ${K}`)};`;
        case 0x4c: return `a = ${d.u32('a | x')};`;
        case 0x54: return `a = ${d.u32(`a & ${K}`)};`;
        case 0x5c: return `a = ${d.u32('a & x')};`;
        case 0x64: return `a = ${d.u32(`a << ${k}`)};`;
        case 0x6c: return `a = ${d.u32('a << (x & 31)')};`;
        case 0x74: return `a = ${d.shr('a', String(k))};`;
        case 0x7c: return `a = ${d.shr('a', '(x & 31)')};`;
        case 0x84: return `a = ${d.u32('0 - a')};`;
        case 0xa4: return `a = ${d.u32(`a ^ ${K}`)};`;
        case 0xac: return `a = ${d.u32('a ^ x')};`;
        case 0x07: return 'x = a;';
        case 0x87: return 'a = x;';
        case 0x05: return d.jump(next + k);
        case 0x15: return branch(`a == ${K}`);
        case 0x1d: return branch('a == x');
        case 0x25: return branch(`a > ${K}`);
        case 0x2d: return branch('a > x');
        case 0x35: return branch(`a >= ${K}`);
        case 0x3d: return branch('a >= x');
        case 0x45: return branch(`(a & ${K}) != 0`);
        case 0x4d: return branch('(a & x) != 0');
        case 0x06: return `return ${K};`;
        case 0x16: return 'return a;';
        default: throw new Error(`unreachable: opcode 0x${code.toString(16)} passed verify()`);
      }
    })();
    return `${d.label(pc)} ${body}`;
  });
}

const js: Dialect = {
  load: (k) => `view.getUint32(base + ${k}, true)`,
  u32: (e) => `((${e}) >>> 0)`,
  literal: (k) => String(k >>> 0),
  mul: (l, r) => `(Math.imul(${l}, ${r}) >>> 0)`,
  shr: (l, r) => `(${l} >>> ${r})`,
  scratch: (i) => `m${i}`,
  jump: (target) => `{ pc = ${target}; continue; }`,
  label: (pc) => `case ${pc}:`,
};

/** The JavaScript source of `(view: DataView, base: number) => number`: the filter's value for the little-endian record at `base`. */
export function translateToJs(program: VerifiedProgram): string {
  const body = statements(program, js).join('\n      ');
  return `let a = 0, x = 0, pc = 0;
  let ${Array.from({ length: 16 }, (_, i) => `m${i} = 0`).join(', ')};
  for (;;) {
    switch (pc) {
      ${body}
    }
  }`;
}

/** The filter as a JavaScript function made with `new Function`. */
export function jsFunction(program: VerifiedProgram): (view: DataView, base: number) => number {
  return new Function('view', 'base', translateToJs(program)) as (view: DataView, base: number) => number;
}

const c: Dialect = {
  load: (k) => `load(d + ${k})`,
  u32: (e) => `(uint32_t)(${e})`,
  literal: (k) => `${k >>> 0}u`,
  mul: (l, r) => `(uint32_t)(${l} * ${r})`,
  shr: (l, r) => `(${l} >> ${r})`,
  scratch: (i) => `m[${i}]`,
  jump: (target) => `goto L${target};`,
  label: (pc) => `L${pc}:`,
};

/** C source of `uint32_t NAME(const uint8_t *d)`: the filter's value for the little-endian record at `d` (an x86-64 host). */
export function translateToC(program: VerifiedProgram, name: string): string {
  return `static inline uint32_t load(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint32_t ${name}(const uint8_t *d) {
  uint32_t a = 0, x = 0, m[16] = {0};
  (void)a; (void)x; (void)m;
  ${statements(program, c).join('\n  ')}
}
`;
}
