import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { EvalPool } from '../../eval/pool.js';
import { type LineTask, readLinePiece } from '../../eval/record-stream.js';
import type { WorkerEngine, WorkerResult } from '../../eval/worker.js';
import { compile } from '../../jit/compiled.js';
import { tableBlock } from '../../jit/tables.js';
import { generateRecords } from '../../src/fuzz/traces.js';
import { packageRoot } from '../../src/package-root.js';
import { packRecords } from '../../src/seccomp/records.js';
import { verify } from '../../src/verifier.js';

/** `ld [nr]; ret a`: each record is decided its syscall number, so results out of order show. */
const retNr = [
  [
    { code: 0x20, jt: 0, jf: 0, k: 0 },
    { code: 0x16, jt: 0, jf: 0, k: 0 },
  ],
];

/** What each test opened: its pool is stopped and its record file closed after it. */
const opened: { pool: EvalPool; fd: number }[] = [];
afterEach(() => {
  for (const { pool, fd } of opened.splice(0)) {
    pool.stop();
    closeSync(fd);
  }
});

/** A pool of one worker that reads its ranges from a file of `count` records (returned too), deciding with `engine`. */
function poolOverFile(count: number, { summary = false, engine = 'interp' as 'interp' | 'table' | 'jit' } = {}): { pool: EvalPool; records: Uint8Array } {
  const file = join(mkdtempSync(join(tmpdir(), 'cbpf-pool-')), 'r.bin');
  const records = generateRecords(count, 'realistic', 3);
  writeFileSync(file, records);
  const pool = new EvalPool(1);
  const fd = openSync(file, 'r');
  opened.push({ pool, fd });
  const setUp = { filters: retNr, recordFile: { fd, byteOrder: 'le' }, format: undefined, binary: true, summary } as const;
  const filters = [verify(retNr[0]!)];
  const workerEngine: WorkerEngine =
    engine === 'jit' ? { engine, modules: { le: compile(filters[0]!).module } } : engine === 'table' ? { engine, tables: tableBlock(filters) } : { engine };
  pool.setUp(setUp, workerEngine);
  return { pool, records };
}

/** Waits until the pool's worker is up and has room for work, taking (and returning) any results meanwhile. */
async function untilRoom(pool: EvalPool): Promise<WorkerResult[]> {
  const taken: WorkerResult[] = [];
  while (!pool.hasRoom()) taken.push(...(await pool.ready()));
  return taken;
}

const decisions = (result: WorkerResult): number[] => [...new Uint32Array(result.binary!.slice().buffer)];
const nrs = (records: Uint8Array, first: number, count: number): number[] =>
  Array.from({ length: count }, (_, i) => new DataView(records.buffer, records.byteOffset).getUint32((first + i) * 64, true));

describe('EvalPool', () => {
  it.each(['interp', 'table'] as const)(
    'gives work only to a worker that is up, and results in input order, the main thread’s among them (%s)',
    async (engine) => {
      const { pool, records } = poolOverFile(300, { engine });
      expect(pool.hasRoom()).toBe(false); // still starting
      const results = await untilRoom(pool);
      pool.send({ first: 0, count: 100, range: { first: 0, offset: 0, count: 100 } });
      const here = Uint32Array.from(nrs(records, 100, 50));
      pool.decidedHere({ count: 50, binary: new Uint8Array(here.buffer) });
      pool.send({ first: 150, count: 150, range: { first: 150, offset: 150 * 64, count: 150 } });
      expect(pool.hasRoom()).toBe(false); // two pieces out
      results.push(...(await pool.ready()), ...(await pool.drain()));
      expect(results.map((r) => r.count)).toEqual([100, 50, 150]);
      expect(results.flatMap(decisions)).toEqual(nrs(records, 0, 300));
    },
  );

  it('counts a summary inside the JIT on a worker, and sends its counts at the end', async () => {
    const { pool, records } = poolOverFile(5000, { summary: true, engine: 'jit' });
    await untilRoom(pool);
    pool.send({ first: 0, count: 5000, range: { first: 0, offset: 0, count: 5000 } });
    const results = [...(await pool.ready()), ...(await pool.drain())];
    const partial = results.find((r) => r.summary)!.summary!;
    // ret nr: each syscall number is its own value, counted in its table row but for the first record of each.
    const expected = new Map<number, number>();
    for (const nr of nrs(records, 0, 5000)) expected.set(nr, (expected.get(nr) ?? 0) + 1);
    expect(new Map(partial.syscalls.map(([, nr, count, values]) => [nr, [count, values]]))).toEqual(
      new Map([...expected].map(([nr, count]) => [nr, [count, [[nr, count]]]])),
    );
  });

  it('decides a batch sent to it, in either byte order', async () => {
    const { pool } = poolOverFile(0);
    await untilRoom(pool);
    const [x86_64, s390x] = [0xc000003e, 0x80000016]; // little-endian, big-endian
    pool.send({
      first: 0,
      count: 2,
      batch: packRecords([
        { arch: x86_64, nr: 5, args: [], instructionPointer: 0n },
        { arch: s390x, nr: 6, args: [], instructionPointer: 0n },
      ]),
    });
    const results = [...(await pool.ready()), ...(await pool.drain())];
    expect(results.flatMap(decisions)).toEqual([5, 6]);
  });

  it('fails the run when a worker decides other than the records it was sent', async () => {
    const { pool } = poolOverFile(100);
    await untilRoom(pool);
    // A piece that says 100 records but whose range holds 60: every decision after it would be shifted.
    pool.send({ first: 0, count: 100, range: { first: 0, offset: 0, count: 60 } });
    await expect(pool.drain()).rejects.toThrow('a worker thread decided 60 records of a piece of 100');
  });

  it('does not keep the process alive before its setup (a run that fails before it needs no stop)', () => {
    const pool = pathToFileURL(join(packageRoot(), 'dist', 'eval', 'pool.js')).href;
    // A script file, not -e: a worker thread inherits node's flags, and --input-type stops it.
    const script = join(mkdtempSync(join(tmpdir(), 'cbpf-pool-')), 'start.mjs');
    writeFileSync(
      script,
      `import { EvalPool } from '${pool}';\nconst pool = new EvalPool(2);\nawait new Promise((later) => setTimeout(later, 1000));\nawait pool.ready(); // throws if a worker failed to start\n`,
    );
    const run = spawnSync(process.execPath, [script], { timeout: 20_000 });
    expect(run.signal).toBeNull(); // not killed by the timeout
    expect(run.status).toBe(0);
  });

  it('drains nothing from a worker that was sent no work, without waiting for it to start', async () => {
    const { pool } = poolOverFile(100, { summary: true });
    // A summary comes only from workers that decided something: none here, so nothing to wait for.
    expect(await pool.drain()).toEqual([]);
  });

  it('reads pieces of lines on a worker, as they are read here, while it has room', async () => {
    const { pool } = poolOverFile(0);
    await untilRoom(pool);
    const json = ['{"arch":"x86_64","nr":"read","args":[1]}', '', '{"arch":"s390x","nr":3}', '{"nr":"bogus"}', '{"arch":"i386","ip":"0x10"}', ''].join('\n');
    const strace = [
      '7 read(0x3, 0x1) = 0x1',
      '[ Process PID=7 runs in 32 bit mode. ]',
      '7 close(0x3) = 0',
      '8 futex(0x1 <unfinished ...>',
      '7 +++ exited with 0 +++',
    ].join('\n');
    const jsonTask = (): LineTask => ({ piece: new TextEncoder().encode(json), context: { format: 'jsonl' } });
    const straceTask = (): LineTask => ({
      piece: new TextEncoder().encode(strace),
      context: { format: 'strace', strace: { arch: 'x86_64', personalities: [['8', 'i386']] } },
    });
    const jsonRead = pool.readLines(jsonTask())!;
    const straceRead = pool.readLines(straceTask())!;
    expect(pool.readLines(jsonTask())).toBeUndefined(); // two pieces out: no room
    expect(await jsonRead).toEqual(readLinePiece(jsonTask()));
    expect(await straceRead).toEqual(readLinePiece(straceTask()));
    expect((await jsonRead).left).toEqual([{ index: 3, text: '{"nr":"bogus"}', before: 2 }]);
    expect((await straceRead).left.map((l) => l.index)).toEqual([1, 3]); // the personality (applied too: close is i386's 6) and the unfinished call
    expect((await straceRead).notSyscalls).toBe(1);
    expect([(await jsonRead).batch.count, (await straceRead).batch.count]).toEqual([3, 2]);
    expect(new DataView((await straceRead).batch.bytes.buffer, 64).getUint32(0, true)).toBe(6);
    expect(pool.recordsReadFromLines).toBe(5);
  });
});
