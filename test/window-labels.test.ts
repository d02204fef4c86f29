/**
 * Labels from the traces themselves (docs/CONTRACTS.md §4) on hand-made traces with known gaps: observed gaps,
 * censoring by a term change (leader lost) and by the end of the trace (unknown), masks, and the RFC 6298
 * Jacobson/Karels column.
 */
import { describe, expect, it } from 'vitest';
import { labelStream } from '../pipeline/window/labels.js';
import { StreamCollector } from '../pipeline/window/streams.js';
import { TICK_MS, traceRows, type TickSpec } from './window-fixtures.js';
import { RaftNsError } from '../pipeline/util/errors.js';

function labelsOf(ticks: TickSpec[]) {
  const c = new StreamCollector('trace.ndjson');
  for (const r of traceRows(ticks)) c.add(r);
  const [stream] = c.finish();
  return labelStream(stream!, TICK_MS);
}

const gapsMs = (l: ReturnType<typeof labelsOf>) => [...l.gapLn].map((g, i) => (l.wGap[i] ? Math.round(Math.exp(g)) : null));

describe('window labels', () => {
  // Heartbeats from n2 in term 1 at ticks 0, 2, 3, 7 (ts 100, 300, 400, 800); the node campaigns at tick 9
  // (term 2), follows n3 from tick 10, hears it at tick 11 and the trace ends at tick 12.
  const trace: TickSpec[] = [
    ['follower', 1, 'n2', 1], ['follower', 1, 'n2', 0], ['follower', 1, 'n2', 1], ['follower', 1, 'n2', 1],
    ['follower', 1, 'n2', 0], ['follower', 1, 'n2', 0], ['follower', 1, 'n2', 0], ['follower', 1, 'n2', 1],
    ['follower', 1, 'n2', 0], ['candidate', 2, null, 0], ['follower', 2, 'n3', 0], ['follower', 2, 'n3', 1],
    ['follower', 2, 'n3', 0],
  ];
  const l = labelsOf(trace);

  it('labels each follower tick with the gap from the last heartbeat to the next one from the same leader and term', () => {
    expect(gapsMs(l).slice(0, 7)).toEqual([200, 200, 100, 400, 400, 400, 400]);
    expect([...l.censored.slice(0, 7)]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect([...l.lost.slice(0, 7)]).toEqual([0, 0, 0, 0, 0, 0, 0]);
    expect([...l.wLost.slice(0, 7)]).toEqual([1, 1, 1, 1, 1, 1, 1]);
  });

  it('censors the last period of a leader that never sends again and marks it lost when the term changes', () => {
    // Last heartbeat at 800, last tick in (n2, 1) ends at 900: the gap is at least 900 + 100 − 800 = 200 ms.
    expect(gapsMs(l).slice(7, 9)).toEqual([200, 200]);
    expect([...l.censored.slice(7, 9)]).toEqual([1, 1]);
    expect([...l.lost.slice(7, 9)]).toEqual([1, 1]);
    expect([...l.wLost.slice(7, 9)]).toEqual([1, 1]);
  });

  it('masks the candidate tick and the follower tick before the new leader is first heard', () => {
    expect([...l.wGap.slice(9, 11)]).toEqual([0, 0]);
    expect([...l.wLost.slice(9, 11)]).toEqual([0, 0]);
  });

  it('censors at the end of the trace with leader_lost unknown', () => {
    expect(gapsMs(l).slice(11)).toEqual([200, 200]);
    expect([...l.censored.slice(11)]).toEqual([1, 1]);
    expect([...l.wLost.slice(11)]).toEqual([0, 0]);
  });

  it('per-gap votes: only the tick whose heartbeat starts a gap carries it (one vote per gap); leader-lost stays per tick', () => {
    const c = new StreamCollector('trace.ndjson');
    for (const r of traceRows(trace)) c.add(r);
    const [stream] = c.finish();
    const g = labelStream(stream!, TICK_MS, 0, stream!.length, 'per-gap');
    // Heartbeat ticks 0, 2, 3, 7 (term 1) and 11 (term 2): gaps 200, 100, 400, then censored 200 (lost), censored 200.
    expect([...g.wGap]).toEqual([1, 0, 1, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0]);
    expect([...g.gapLn].map((v, i) => (g.wGap[i] ? Math.round(Math.exp(v)) : null)).filter((v) => v !== null)).toEqual([200, 100, 400, 200, 200]);
    expect([...g.wLost]).toEqual([...l.wLost]);
    expect([...g.lost]).toEqual([...l.lost]);
  });

  it('computes Jacobson/Karels SRTT + 4·RTTVAR over inter-arrival gaps of one leader and term', () => {
    const jk = [...l.jkLn].map((v) => (Number.isNaN(v) ? null : Number(Math.exp(v).toFixed(4))));
    // Gaps 200 (SRTT 200, RTTVAR 100), 100 (187.5, 100), 400 (214.0625, 128.125).
    expect(jk).toEqual([null, null, 600, 587.5, 587.5, 587.5, 587.5, 726.5625, 726.5625, null, null, null, null]);
  });

  it('keeps measuring across a leaderless pre-vote in the same term, and leaves lost unknown when the trace ends leaderless', () => {
    const back = labelsOf([
      ['follower', 1, 'n2', 1], ['pre-candidate', 1, null, 0], ['pre-candidate', 1, null, 0], ['follower', 1, 'n2', 1],
      ['pre-candidate', 1, null, 0], ['pre-candidate', 1, null, 0],
    ]);
    expect(gapsMs(back)).toEqual([300, null, null, 100, null, null]);
    expect([...back.censored]).toEqual([0, 0, 0, 1, 0, 0]);
    expect([...back.wLost]).toEqual([1, 0, 0, 0, 0, 0]);
  });

  it('masks the leader itself and labels a lost leader when another leader appears in a later term', () => {
    const l2 = labelsOf([
      ['leader', 1, 'n1', 0], ['follower', 2, 'n2', 1], ['follower', 2, 'n2', 0], ['follower', 3, 'n3', 0],
    ]);
    expect([...l2.wGap]).toEqual([0, 1, 1, 0]);
    expect([...l2.lost]).toEqual([0, 1, 1, 0]);
    expect(gapsMs(l2)).toEqual([null, 200, 200, null]);
  });

  it('refuses a node whose time goes backwards, naming the input and the row', () => {
    const c = new StreamCollector('trace.ndjson');
    const rows = traceRows([['follower', 1, 'n2', 1], ['follower', 1, 'n2', 1]]);
    c.add(rows[1]!);
    expect(() => c.add(rows[0]!)).toThrowError(RaftNsError);
    expect(() => c.add(rows[0]!)).toThrowError(/^window: trace\.ndjson row \d+: ts_ms 100 .*expected a time after/);
  });
});
