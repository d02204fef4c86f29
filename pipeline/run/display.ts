/**
 * The stage-by-stage display of `raft-ns run`: one line per stage (index, name, status, time, key figure),
 * indented log lines under a running stage, and a closing summary with the time per stage.
 */
import type { StageRecord, RunStagesOptions } from './stage.js';

const STATUS_TEXT: Record<StageRecord['status'], string> = {
  ran: 'ran',
  cached: 'cached',
  failed: 'FAILED',
  unavailable: 'skipped',
  blocked: 'blocked',
};

export function stageLine(r: StageRecord, index: number, total: number, nameWidth: number): string {
  const idx = `[${index + 1}/${total}]`;
  const name = r.name.padEnd(nameWidth);
  if (r.status === 'unavailable' || r.status === 'blocked' || r.status === 'failed') {
    const time = r.status === 'failed' ? fmtMs(r.duration_ms).padStart(8) : ''.padStart(8);
    return `  ${idx} ${name}  ${STATUS_TEXT[r.status].padEnd(7)} ${time}  ${r.reason ?? ''}`.trimEnd();
  }
  return `  ${idx} ${name}  ${STATUS_TEXT[r.status].padEnd(7)} ${fmtMs(r.duration_ms).padStart(8)}  ${r.figure}`.trimEnd();
}

/** An `onEvent` handler that writes the display to `write` (stdout in the CLI). */
export function makeDisplay(write: (text: string) => void, names: readonly string[]): NonNullable<RunStagesOptions['onEvent']> {
  const width = Math.max(...names.map((n) => n.length));
  return (e) => {
    if (e.kind === 'start') write(`  [${e.index + 1}/${e.total}] ${e.stage.name.padEnd(width)}  running…\n`);
    else if (e.kind === 'log') write(`        ${e.line}\n`);
    else write(`${stageLine(e.record, e.index, e.total, width)}\n`);
  };
}

export function summaryText(records: readonly StageRecord[], totalMs: number): string {
  const count = (s: StageRecord['status']): number => records.filter((r) => r.status === s).length;
  const parts = (['ran', 'cached', 'failed', 'unavailable', 'blocked'] as const)
    .filter((s) => count(s) > 0)
    .map((s) => `${count(s)} ${STATUS_TEXT[s]}`);
  const times = records
    .filter((r) => r.status === 'ran' || r.status === 'cached' || r.status === 'failed')
    .map((r) => `${r.name} ${fmtMs(r.duration_ms)}`)
    .join(', ');
  return `summary: ${parts.join(', ')}; total ${fmtMs(totalMs)}${times ? `\ntime per stage: ${times}` : ''}`;
}

export function fmtMs(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  return `${Math.floor(ms / 60_000)}m${String(Math.round((ms % 60_000) / 1000)).padStart(2, '0')}s`;
}
