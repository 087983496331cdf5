/**
 * Runs before every test file: the file gets a temporary folder of its own,
 * which holds everything it and the processes and threads it starts write
 * (TMPDIR points there) and the compiled-module cache (so no test reads or
 * writes the user's real cache; tests that need the cache off, or a folder of
 * their own, set CBPF_CACHE_DIR themselves). It is removed after the file.
 */
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const root = mkdtempSync(join(tmpdir(), 'cbpf-test-'));
chmodSync(root, 0o755); // tests that run cbpf as another user reach their files in it
process.env.TMPDIR = root;
process.env.CBPF_CACHE_DIR = join(root, 'cache');
mkdirSync(process.env.CBPF_CACHE_DIR);
afterAll(() => rmSync(root, { recursive: true, force: true }));
