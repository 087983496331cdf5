/** `cbpf ps`: the processes on this machine that run seccomp filters. */
import { seccompProcesses } from '../live/processes.js';
import type { Command } from './args.js';
import type { Io } from './io.js';

export async function runPs(command: Extract<Command, { kind: 'ps' }>, io: Io): Promise<void> {
  const processes = seccompProcesses();
  if (command.json) {
    for (const process of processes) io.stdout(`${JSON.stringify(process)}\n`);
    return;
  }
  const width = Math.max(3, ...processes.map((p) => String(p.pid).length));
  const lines = processes.map((p) => `${String(p.pid).padStart(width)}  ${p.mode.padEnd(6)}  ${String(p.filters).padStart(7)}  ${p.command}`);
  io.stdout(`${'PID'.padStart(width)}  MODE    FILTERS  COMMAND\n${lines.map((line) => `${line}\n`).join('')}`);
}
