/**
 * A one-line progress display (rate and ETA) on a terminal; silent when stderr is not a TTY, under CI,
 * or when asked to be quiet. Redraws at most every 100 ms so it costs nothing in hot loops.
 */
export interface Progress {
  /** Sets the absolute amount done (same unit as `total`), with an optional suffix such as `loss 0.12`. */
  update(done: number, suffix?: string): void;
  /** Clears the line and prints a final summary line (also silent when quiet). */
  done(summary?: string): void;
}

export interface ProgressOptions {
  label: string;
  /** Total amount of work, if known (enables the ETA and the bar). */
  total?: number;
  /** Unit name shown with the rate, e.g. `rows`, `windows`. */
  unit: string;
  quiet?: boolean;
}

export function makeProgress(opts: ProgressOptions): Progress {
  const enabled = !opts.quiet && process.stderr.isTTY === true && !process.env.CI;
  const startMs = performance.now();
  let lastDrawMs = 0;
  let lastDone = 0;
  const draw = (done: number, suffix: string): void => {
    const elapsedS = (performance.now() - startMs) / 1000;
    const rate = elapsedS > 0 ? done / elapsedS : 0;
    let line = `${opts.label} ${fmtCount(done)}`;
    if (opts.total !== undefined && opts.total > 0) {
      const frac = Math.min(1, done / opts.total);
      const width = 24;
      const filled = Math.round(frac * width);
      const etaS = rate > 0 ? (opts.total - done) / rate : Number.NaN;
      line = `${opts.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(frac * 100).toFixed(0)}% ${fmtCount(done)}/${fmtCount(opts.total)} ${opts.unit}, ${fmtCount(rate)} ${opts.unit}/s, ETA ${fmtSeconds(etaS)}`;
    } else {
      line += ` ${opts.unit}, ${fmtCount(rate)} ${opts.unit}/s`;
    }
    if (suffix) line += `, ${suffix}`;
    process.stderr.write(`\r\x1b[2K${line}`);
  };
  return {
    update(done, suffix = '') {
      lastDone = done;
      if (!enabled) return;
      const now = performance.now();
      if (now - lastDrawMs < 100) return;
      lastDrawMs = now;
      draw(done, suffix);
    },
    done(summary) {
      if (!enabled) return;
      process.stderr.write('\r\x1b[2K');
      if (summary) process.stderr.write(`${summary}\n`);
      void lastDone;
    },
  };
}

export function fmtCount(n: number): string {
  if (!Number.isFinite(n)) return '?';
  if (n >= 1e6) return `${(n / 1e6).toFixed(2)}M`;
  if (n >= 1e4) return `${(n / 1e3).toFixed(1)}K`;
  return n >= 100 ? n.toFixed(0) : n.toFixed(1);
}

export function fmtSeconds(s: number): string {
  if (!Number.isFinite(s)) return '?';
  if (s < 60) return `${s.toFixed(0)}s`;
  return `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`;
}
