import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SAMPLE_FILTERS } from '../../bench/samples.js';
import { packageRoot } from '../../src/package-root.js';

/** A module hook that fails any import of binaryen, registered with `node --import`. */
function binaryenTripwire(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cbpf-startup-'));
  writeFileSync(
    join(dir, 'hooks.mjs'),
    `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (result.url.includes('/node_modules/binaryen/')) throw new Error('binaryen was loaded');
  return result;
}\n`,
  );
  writeFileSync(join(dir, 'register.mjs'), `import { register } from 'node:module';\nregister('./hooks.mjs', import.meta.url);\n`);
  return join(dir, 'register.mjs');
}

const filter = SAMPLE_FILTERS[0]!.path;

describe('the cbpf process', () => {
  const tripwire = binaryenTripwire();
  const run = (args: string[]) => spawnSync('node', ['--import', tripwire, join(packageRoot(), 'bin', 'cbpf.js'), ...args], { encoding: 'utf8' });

  // Binaryen takes about half a second to load: commands that do not compile must not pay for it.
  it.each([[['--help']], [['disasm', filter]], [['verify', filter]], [['eval', filter, '--engine', 'interp', '--records', '/dev/null']]])(
    'does not load binaryen for %j',
    (args) => {
      const result = run(args);
      expect(result.stderr).not.toContain('binaryen was loaded');
      expect(result.status).toBe(0);
    },
  );

  it('loads binaryen to compile (the tripwire works)', () => {
    const result = run(['compile', filter, '--wat']);
    expect(result.stderr).toContain('binaryen was loaded');
    expect(result.status).not.toBe(0);
  });
});
