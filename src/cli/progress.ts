/**
 * Live progress of a long run on standard error, only when it is a terminal:
 * records and records/s, with percent done and time left when the input's
 * size is known. Piped or redirected, it stays quiet.
 */
import type { Io } from './io.js';

/** How often the line is redrawn, in milliseconds. */
const INTERVAL_MS = 500;

/** 75 → "1m15s", 8 → "8s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

export class Progress {
  private readonly started: number;
  private lastDrawn: number;
  private drawn = false;

  constructor(
    private readonly io: Io,
    /** The input's size in bytes, when known. */
    private readonly totalBytes: number | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.started = this.lastDrawn = now();
  }

  /** `records` decided so far, `bytes` of the input read. */
  update(records: number, bytes: number): void {
    if (!this.io.stderrIsTTY) return;
    const now = this.now();
    if (now - this.lastDrawn < INTERVAL_MS) return;
    this.lastDrawn = now;
    const seconds = (now - this.started) / 1000;
    let line = `${records} records, ${(records / seconds / 1e6).toFixed(2)} M records/s`;
    if (this.totalBytes && bytes > 0) {
      const done = Math.min(1, bytes / this.totalBytes);
      line += `, ${(100 * done).toFixed(1)}%, ${formatDuration((seconds * (1 - done)) / done)} left`;
    }
    this.io.stderr(`\r${line}   `);
    this.drawn = true;
  }

  /** Ends the progress line, if one was drawn. */
  finish(): void {
    if (this.drawn) this.io.stderr('\n');
  }
}
