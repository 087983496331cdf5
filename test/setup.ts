/**
 * Runs before every test file: the compiled-module cache goes to a fresh
 * temporary folder, so that no test, nor any process or thread it starts,
 * reads or writes the user's real cache (tests that need the cache off, or a
 * folder of their own, set CBPF_CACHE_DIR themselves).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'cbpf-test-cache-'));
process.env.CBPF_CACHE_DIR = dir;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
