import { describe, expect, it } from 'vitest';
import type { Io } from '../../src/cli/io.js';
import { formatDuration, Progress } from '../../src/cli/progress.js';

/** An Io whose standard error is (or is not) a terminal, collecting what is written there. */
function terminal(isTTY: boolean): { io: Io; written: string[] } {
  const written: string[] = [];
  return { io: { stderrIsTTY: isTTY, stderr: (text: string) => void written.push(text) } as unknown as Io, written };
}

describe('Progress', () => {
  it('shows records/s, percent and time left on a terminal, at most twice a second', () => {
    const { io, written } = terminal(true);
    let now = 0;
    const progress = new Progress(io, 1000, () => now);
    now = 100;
    progress.update(10, 10); // too soon
    now = 2000;
    progress.update(4_000_000, 250); // a quarter in 2 s: 6 s left
    progress.finish();
    expect(written).toEqual(['\r4000000 records, 2.00 M records/s, 25.0%, 6s left   ', '\n']);
  });

  it('leaves out percent and time left when the size is unknown', () => {
    const { io, written } = terminal(true);
    let now = 0;
    const progress = new Progress(io, undefined, () => now);
    now = 1000;
    progress.update(500_000, 1234);
    expect(written).toEqual(['\r500000 records, 0.50 M records/s   ']);
  });

  it('stays quiet when standard error is not a terminal', () => {
    const { io, written } = terminal(false);
    let now = 0;
    const progress = new Progress(io, 1000, () => now);
    now = 5000;
    progress.update(1, 1);
    progress.finish();
    expect(written).toEqual([]);
  });

  it.each([
    [8, '8s'],
    [75, '1m15s'],
    [3 * 3600 + 5 * 60, '3h05m'],
  ])('formats %i s as %s', (seconds, text) => expect(formatDuration(seconds)).toBe(text));
});
