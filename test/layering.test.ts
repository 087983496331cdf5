/**
 * The layering rule, checked by parsing every import of the checked folders:
 *
 *   core (src/ but src/cli/)  ->  core only (plus node:* builtins and npm packages other than binaryen)
 *   interp/                   ->  core, interp
 *   jit/                      ->  core, jit, and binaryen (the only folder that may import it)
 *   eval/                     ->  core, interp, jit, eval
 *   bench/                    ->  core, interp, jit, eval, bench (never src/cli/)
 *   src/cli/                  ->  everything but binaryen (which it loads through jit/, lazily)
 *
 * Lower layers never import higher ones: the core stays usable without the
 * engines, and binaryen loads only where the JIT is used. test/ and scripts/
 * are not checked.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const checked = ['src', 'interp', 'jit', 'eval', 'bench'];
const engines = ['core', 'interp', 'jit', 'eval', 'bench', 'cli'];
const allowed: Record<string, string[]> = {
  core: ['core', 'node', 'npm'],
  interp: ['core', 'interp', 'node', 'npm'],
  jit: ['core', 'jit', 'binaryen', 'node', 'npm'],
  eval: ['core', 'interp', 'jit', 'eval', 'node', 'npm'],
  bench: ['core', 'interp', 'jit', 'eval', 'bench', 'node', 'npm'],
};
const mayImport = (layer: string, target: string) => (layer === 'cli' ? target !== 'binaryen' : allowed[layer]!.includes(target));

/** The layer of a repo-relative path with forward slashes: core, cli, interp, ..., or its top folder. */
const layerOfPath = (path: string) => (path.startsWith('src/cli/') ? 'cli' : path.startsWith('src/') ? 'core' : path.split('/')[0]!);

/** Every import specifier of a source, with its 1-based line (a multi-line import's specifier is on its `from` line). */
function findImports(source: string): { line: number; specifier: string }[] {
  const found: { line: number; specifier: string }[] = [];
  const statics = [/^\s*(?:(?:import|export)\b[^'"]*?\b|\}\s*)from\s*(['"])([^'"]+)\1/, /^\s*import\s*(['"])([^'"]+)\1/];
  source.split('\n').forEach((text, i) => {
    for (const re of statics) {
      const m = re.exec(text);
      if (m) found.push({ line: i + 1, specifier: m[2]! });
    }
    if (/^\s*(\/\/|\/\*|\*)/.test(text)) return; // a comment that mentions import('...') imports nothing
    for (const m of text.matchAll(/\bimport\s*\(\s*(['"])([^'"]+)\1\s*\)/g)) found.push({ line: i + 1, specifier: m[2]! });
  });
  return found;
}

/** The layer an import from `file` (repo-relative) lands in. */
function targetLayer(file: string, specifier: string): string {
  if (specifier.startsWith('node:')) return 'node';
  if (specifier === 'binaryen' || specifier.startsWith('binaryen/')) return 'binaryen';
  if (!specifier.startsWith('.')) return 'npm';
  return layerOfPath(relative(root, resolve(root, dirname(file), specifier)).replaceAll('\\', '/'));
}

/** The checked .ts files (not .d.ts), repo-relative, by layer; a missing folder (eval/ for now) has none. */
function sourceFiles(): Record<string, string[]> {
  const byLayer: Record<string, string[]> = Object.fromEntries(engines.map((layer) => [layer, []]));
  for (const folder of checked.filter((f) => existsSync(join(root, f)))) {
    for (const entry of readdirSync(join(root, folder), { recursive: true, encoding: 'utf8' }).sort()) {
      const file = `${folder}/${entry.replaceAll('\\', '/')}`;
      if (file.endsWith('.ts') && !file.endsWith('.d.ts') && !file.includes('/node_modules/')) byLayer[layerOfPath(file)]!.push(file);
    }
  }
  return byLayer;
}

describe('layering', () => {
  const files = sourceFiles();

  it('finds the files of each existing layer', () => {
    expect(files.core!.length).toBeGreaterThan(5);
    expect(files.cli!.length).toBeGreaterThan(0);
    expect(files.interp!.length).toBeGreaterThan(0);
    expect(files.jit!.length).toBeGreaterThan(0);
    expect(files.bench!.length).toBeGreaterThan(0);
  });

  it('parses static, multi-line, re-export and dynamic imports, with their lines', () => {
    const source = [
      "import { a } from './a.js';",
      'import {',
      '  b,',
      '  type C,',
      "} from '../b.js';",
      "import './side-effect.js';",
      "export * from './c.js';",
      "import type { D } from 'node:fs';",
      '// not an import: import("./comment.js")',
      "const e = await import('../../jit/e.js');",
    ].join('\n');
    expect(findImports(source)).toEqual([
      { line: 1, specifier: './a.js' },
      { line: 5, specifier: '../b.js' },
      { line: 6, specifier: './side-effect.js' },
      { line: 7, specifier: './c.js' },
      { line: 8, specifier: 'node:fs' },
      { line: 10, specifier: '../../jit/e.js' },
    ]);
    expect(targetLayer('src/fuzz/engines.ts', '../cli/x.js')).toBe('cli');
    expect(targetLayer('src/cli/bench.ts', '../../bench/suite.js')).toBe('bench');
  });

  it('lets no layer import a layer above it', () => {
    const violations: string[] = [];
    for (const [layer, list] of Object.entries(files)) {
      for (const file of list) {
        for (const { line, specifier } of findImports(readFileSync(join(root, file), 'utf8'))) {
          const target = targetLayer(file, specifier);
          if (!mayImport(layer, target)) violations.push(`${file}:${line} imports '${specifier}' (layer ${layer} may not import layer ${target})`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});
