/**
 * What a worker thread of `cbpf eval` loads before it can answer: its start-up
 * is time the main thread decides alone, so the code only some runs use
 * (reading text, syscall names, the interpreter and verifier, the decision
 * tables' builder, lines) is loaded when a run asks for it (eval/worker.ts).
 * Checked on the static imports, those that load with the module.
 */
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * The relative modules `source` loads statically: imports and re-exports of
 * values (not `import type`, nor a list of types only), and imports for their
 * side effects.
 */
function valueImports(source: string): string[] {
  const found: string[] = [];
  for (const m of source.matchAll(/^(?:import|export)\s+(type\s+)?([^;=()]*?)\s*from\s*'(\.[^']+)';|^import\s+'(\.[^']+)';/gm)) {
    if (m[4]) {
      found.push(m[4]);
      continue;
    }
    const list = /^\{([\s\S]*)\}$/.exec(m[2]!.trim()); // a list of names and nothing else
    const typesOnly = list !== null && list[1]!.split(',').every((name) => !name.trim() || /^type\s/.test(name.trim()));
    if (!m[1] && !typesOnly) found.push(m[3]!);
  }
  return found;
}

/** Every module (repo-relative, .ts) that loading `file` loads. */
function staticGraph(file: string): Set<string> {
  const seen = new Set<string>();
  const visit = (path: string): void => {
    if (seen.has(path)) return;
    seen.add(path);
    for (const specifier of valueImports(readFileSync(join(root, path), 'utf8')))
      visit(relative(root, resolve(root, dirname(path), specifier.replace(/\.js$/, '.ts'))).replaceAll('\\', '/'));
  };
  visit(file);
  return seen;
}

describe("a worker thread's code", () => {
  it('tells value imports from type imports', () => {
    const source = [
      "import { a } from './a.js';",
      "import type { B } from './b.js';",
      "import { type C, type D } from './c.js';",
      "import { type E, f } from './f.js';",
      'import {',
      '  type G,',
      '  h,',
      "} from './h.js';",
      "import * as i from './i.js';",
      "const j = await import('./j.js');",
      "export { k } from './k.js';",
      "export type { L } from './l.js';",
      "import './m.js';",
      'export const n = 1;',
      "export function o() { return import('./o.js'); }",
    ].join('\n');
    expect(valueImports(source)).toEqual(['./a.js', './f.js', './h.js', './i.js', './k.js', './m.js']);
  });

  it('loads the JIT, the record file reader and the counting, and nothing a run may not use', () => {
    const graph = staticGraph('eval/worker.ts');
    for (const needed of ['jit/instance.ts', 'eval/batch.ts', 'eval/record-file.ts', 'eval/summary-counts.ts']) expect(graph).toContain(needed);
    const loadedOnDemand = [
      'src/seccomp/syscall-tables.generated.ts',
      'src/seccomp/syscalls.ts',
      'src/seccomp/record-json.ts',
      'src/seccomp/strace.ts',
      'eval/record-stream.ts',
      'eval/lines.ts',
      'src/verifier.ts',
      'src/decision-table.ts',
      'jit/tables.ts',
      'interp/engines.ts',
    ];
    expect(loadedOnDemand.filter((module) => graph.has(module))).toEqual([]);
  });
});
