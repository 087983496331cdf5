/**
 * The filters processes run, read through the native helper (native/live.c):
 * from a running process (PTRACE_SECCOMP_GET_FILTER), or captured as a command
 * installs them (ptrace, following its forks and threads).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { decodeRaw } from '../codecs/raw.js';
import type { Instruction } from '../instruction.js';
import { nativeHelper } from '../native.js';
import { type SeccompMode, seccompProcess } from './processes.js';

/** Reading or capturing filters failed; the message is one line saying why. */
export class LiveError extends Error {
  override readonly name = 'LiveError';
}

/** A process's stack of filters, oldest first, and how each was installed when captured. */
export interface ProcessStack {
  readonly pid: number;
  readonly command: string;
  readonly mode: SeccompMode;
  readonly filters: Instruction[][];
  /**
   * When captured from the start: the seccomp(2) flags each filter was
   * installed with (0 for prctl), null for a filter the process inherited.
   */
  readonly flags?: (number | null)[];
}

/** A filter as the helper prints it: the raw sock_filter bytes in hex, in this host's byte order (x86-64: little-endian). */
const filterOf = (hex: string): Instruction[] => decodeRaw(Buffer.from(hex, 'hex'), 'le');

/** The helper's one-line complaint on `stderr`, without its `cbpf-live: ` prefix. */
const complaint = (stderr: string, fallback: string): string =>
  stderr
    .trim()
    .split('\n')
    .at(-1)
    ?.replace(/^cbpf-live: /, '') || fallback;

/**
 * The filters process `pid` runs, oldest first, exactly as the kernel holds
 * them. A process in strict mode or without seccomp has none.
 * @throws LiveError for a process that does not exist or cannot be read (needs CAP_SYS_ADMIN and ptrace permission).
 * @throws NativeUnavailable when the helper cannot run here.
 */
export function dumpProcess(pid: number): ProcessStack {
  const process = seccompProcess(pid);
  if (!process) throw new LiveError(`no process ${pid}`);
  if (process.mode !== 'filter') return { pid, command: process.command, mode: process.mode, filters: [] };
  const result = spawnSync(nativeHelper('live'), ['dump', String(pid)], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (result.error) throw new LiveError(`cbpf-live: ${result.error.message}`);
  if (result.status !== 0) throw new LiveError(`process ${pid} (${process.command}): ${complaint(result.stderr, `cbpf-live exited with ${result.status}`)}`);
  const [head = '', ...lines] = result.stdout.trim().split('\n');
  const count = Number(/^filters (\d+)$/.exec(head)?.[1]);
  if (!(count >= 0) || lines.length !== count) throw new LiveError(`cbpf-live: unexpected output for process ${pid}: ${JSON.stringify(head)}`);
  return { pid, command: process.command, mode: process.mode, filters: lines.map(filterOf) };
}

/** What a command installed, by process, in the order the processes installed their first filter. */
export interface Capture {
  readonly processes: ProcessStack[];
  /** The command's exit: its status (128 + signal when killed by one), or 'killed' when stopped at its first filter. */
  readonly exit: number | 'killed';
}

/** A process's command name while it runs, else `fallback`. */
function commandName(pid: number, fallback: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return fallback;
  }
}

/**
 * Runs `argv` under ptrace, with this process's standard input and outputs,
 * and captures every filter it and the processes it starts install, in order,
 * per process; with `first`, stops (kills) it at its first filter.
 * @throws LiveError when the command cannot be traced; NativeUnavailable when the helper cannot run here.
 */
export async function captureCommand(argv: readonly string[], first: boolean): Promise<Capture> {
  const child = spawn(nativeHelper('live'), ['run', ...(first ? ['--first'] : []), '--', ...argv], { stdio: ['inherit', 'inherit', 'pipe', 'pipe'] });
  const byPid = new Map<number, { command: string; filters: Instruction[][]; flags: (number | null)[] }>();
  let exit: number | 'killed' | undefined;
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  // The helper's own complaints are kept; the command's standard error goes through.
  child.stderr!.on('data', (text: string) => {
    for (const line of text.split(/(?<=\n)/)) {
      if (line.startsWith('cbpf-live: ')) stderr += line;
      else process.stderr.write(line);
    }
  });
  const protocol = createInterface({ input: child.stdio[3] as Readable });
  const fallback = argv[0]!.split('/').at(-1)!;
  protocol.on('line', (line) => {
    // The installing thread's whole stack, oldest first, the new filter last.
    const filter = /^filter (\d+) \d+ (\d+) (\d+) ((?:[0-9a-f]+ ?)+)$/.exec(line);
    if (filter) {
      const pid = Number(filter[1]);
      const stack = filter[4]!.split(' ').map(filterOf);
      if (stack.length !== Number(filter[3])) throw new LiveError(`cbpf-live: a stack of ${stack.length} filters, said to hold ${filter[3]}`);
      const entry = byPid.get(pid) ?? { command: commandName(pid, fallback), filters: [], flags: [] };
      // Filters before the new one that this process did not install itself were inherited.
      const flags = stack.map((_, i) => (i === stack.length - 1 ? Number(filter[2]) : i < entry.filters.length ? entry.flags[i]! : null));
      byPid.set(pid, { command: entry.command, filters: stack, flags });
      return;
    }
    const ended = /^exit (\d+|killed)$/.exec(line);
    if (ended) exit = ended[1] === 'killed' ? 'killed' : Number(ended[1]);
  });
  const status = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (status !== 0 || exit === undefined) throw new LiveError(complaint(stderr, `cbpf-live exited with ${status}`));
  // The helper ran: what it said is about the command (it could not be started), so it is the command's to see.
  if (stderr !== '') process.stderr.write(stderr.replace(/^cbpf-live: /gm, 'cbpf: '));
  const processes = [...byPid].map(([pid, entry]) => ({ pid, command: entry.command, mode: 'filter' as const, filters: entry.filters, flags: entry.flags }));
  return { processes, exit };
}
