/**
 * Labels from the traces themselves (docs/CONTRACTS.md §4), computed over ONE node stream whose ticks are in
 * time order. Pure functions over columnar arrays: no I/O, no clock, no randomness.
 *
 * Vocabulary: a tick is "in (L, τ)" when its `leader_id` is L and its `term` is τ. A heartbeat in (L, τ) is a
 * tick in (L, τ) with `heartbeat_received`.
 *
 * For a follower tick t in (L, τ):
 *  - a = ts of the last heartbeat in (L, τ) at or before t. No a → masked (weight 0 on both heads).
 *  - b = ts of the first heartbeat in (L, τ) after t. Then gap = b − a, observed, leader_lost = 0.
 *  - no b: right-censored, gap ≥ (e + tick_ms) − a where e is the ts of the stream's last tick in (L, τ):
 *    tick e ended without a heartbeat, so the next one could at the earliest land in the tick after e.
 *    leader_lost = 1 when a later tick of the stream shows another term or another (non-null) leader — the
 *    (L, τ) period ended by a term or leader change; unknown (masked) when the stream only shows
 *    leaderless ticks of term τ, or nothing, after e: the trace ended before we learn how the period ended.
 * Non-follower ticks and ticks with no leader are masked. Labels do not depend on τ of the quantile loss.
 */
import { rfc6298State, rfc6298Update } from '../../sim/rfc6298.js';

/** Role codes used in the columnar stream arrays. */
export const ROLE_CODES = { follower: 0, 'pre-candidate': 1, candidate: 2, leader: 3 } as const;
export type RoleName = keyof typeof ROLE_CODES;

/** One node stream in columnar form; index i is the i-th tick in time order. */
export interface StreamColumns {
  /** Number of ticks. */
  length: number;
  tsMs: Float64Array;
  term: Float64Array;
  /** Leader id interned per stream; -1 = no leader. Only equality matters. */
  leader: Int32Array;
  /** ROLE_CODES value. */
  role: Uint8Array;
  /** 1 = a heartbeat from the current leader arrived in this tick. */
  heartbeat: Uint8Array;
  /** NaN = null (no measurement this tick). */
  heartbeatLatencyMs: Float64Array;
  logReplicationGap: Float64Array;
  rpcRetries: Float64Array;
  cpuIdlePct: Float64Array;
}

/** Per-tick labels of one stream (length = stream length). */
export interface StreamLabels {
  /** ln(gap ms), or ln(lower bound) when censored; 0 where masked. */
  gapLn: Float64Array;
  censored: Uint8Array;
  lost: Uint8Array;
  wGap: Uint8Array;
  wLost: Uint8Array;
  /** ln(SRTT + 4·RTTVAR) of the Jacobson/Karels estimator; NaN when undefined. */
  jkLn: Float64Array;
}

/**
 * Which ticks carry the gap label. `per-tick` (the original contract): every follower tick of a gap carries
 * it, so a 3 s gap is counted 300 times and a 10 ms one once (length bias). `per-gap`: only the tick where the
 * gap starts (a = t, the tick whose heartbeat arms the runtime's held deadline) carries it — one vote per
 * gap, exactly the population of deadlines the runtime arms (runtime/timeout.ts `heldQ`). The leader-lost
 * labels stay per tick either way: P(leader lost | silence, context) is a decision taken at every tick.
 */
export type GapVotes = 'per-tick' | 'per-gap';

/** RFC 6298's multiplier K (its gains are sim/rfc6298.ts's defaults). */
export const JK_K = 4;

/**
 * Labels of ticks [start, end) of `s`, treating that range as a whole trace (the time-block split labels
 * each block on its own so that no label looks across a split boundary).
 *
 * @example
 *   const labels = labelStream(stream, 100);           // whole stream, tick_ms = 100
 *   labels.gapLn[t]; labels.wGap[t];                   // ln(gap ms) and its weight at tick t
 */
export function labelStream(s: StreamColumns, tickMs: number, start = 0, end = s.length, gapVotes: GapVotes = 'per-tick'): StreamLabels {
  const n = end - start;
  const out: StreamLabels = {
    gapLn: new Float64Array(n),
    censored: new Uint8Array(n),
    lost: new Uint8Array(n),
    wGap: new Uint8Array(n),
    wLost: new Uint8Array(n),
    jkLn: new Float64Array(n).fill(Number.NaN),
  };
  if (n <= 0) return out;

  // 1. Dense key id per tick for (leader, term); -1 when no leader. Keys are interned only when (leader, term)
  //    changes from the previous tick, so the map is touched once per period, not once per tick.
  const keyOf = new Int32Array(n);
  const keyIds = new Map<string, number>();
  const keyLeader: number[] = [];
  const keyTerm: number[] = [];
  let prevLeader = Number.NaN;
  let prevTerm = Number.NaN;
  let prevKey = -1;
  for (let i = 0; i < n; i++) {
    const leader = s.leader[start + i]!;
    const term = s.term[start + i]!;
    if (leader !== prevLeader || term !== prevTerm) {
      prevLeader = leader;
      prevTerm = term;
      if (leader < 0) prevKey = -1;
      else {
        const name = `${leader}|${term}`;
        let id = keyIds.get(name);
        if (id === undefined) {
          id = keyLeader.length;
          keyIds.set(name, id);
          keyLeader.push(leader);
          keyTerm.push(term);
        }
        prevKey = id;
      }
    }
    keyOf[i] = prevKey;
  }
  const numKeys = keyLeader.length;

  // 2. Per key: index of its last tick, and whether the period is known to have ended by a change.
  const lastTick = new Int32Array(numKeys).fill(-1);
  for (let i = 0; i < n; i++) if (keyOf[i]! >= 0) lastTick[keyOf[i]!] = i;
  const endedByChange = new Uint8Array(numKeys);
  for (let k = 0; k < numKeys; k++) {
    // Invariant: every tick after lastTick[k] is outside (L, τ); the period is known to have ended unless all of
    // them are leaderless ticks of the same term (a pre-vote in progress when the trace stops).
    for (let j = lastTick[k]! + 1; j < n; j++) {
      if (s.term[start + j] !== keyTerm[k] || s.leader[start + j]! >= 0) {
        endedByChange[k] = 1;
        break;
      }
    }
  }

  // 3. Backward pass: next heartbeat strictly after t in the same key (NaN = none).
  const nextHb = new Float64Array(n);
  const nextByKey = new Float64Array(numKeys).fill(Number.NaN);
  for (let i = n - 1; i >= 0; i--) {
    const k = keyOf[i]!;
    if (k < 0) {
      nextHb[i] = Number.NaN;
      continue;
    }
    nextHb[i] = nextByKey[k]!;
    if (s.heartbeat[start + i]) nextByKey[k] = s.tsMs[start + i]!;
  }

  // 4. Forward pass: last heartbeat at or before t (a), the labels, and the Jacobson/Karels column.
  const lastByKey = new Float64Array(numKeys).fill(Number.NaN);
  let jkKey = -1;
  let jkLastArrivalMs = 0;
  const jk = rfc6298State();
  for (let i = 0; i < n; i++) {
    const k = keyOf[i]!;
    const ts = s.tsMs[start + i]!;
    if (k >= 0 && s.heartbeat[start + i]) {
      lastByKey[k] = ts;
      // RFC 6298 over inter-arrival gaps of one (leader, term): a new leader's arrivals restart the estimate.
      if (k !== jkKey) {
        jkKey = k;
        jk.samples = 0;
      } else {
        rfc6298Update(jk, ts - jkLastArrivalMs);
      }
      jkLastArrivalMs = ts;
    }
    if (k >= 0 && k === jkKey && jk.samples > 0) out.jkLn[i] = Math.log(jk.srttMs + JK_K * jk.rttvarMs);

    if (k < 0 || s.role[start + i] !== ROLE_CODES.follower) continue;
    const a = lastByKey[k]!;
    if (Number.isNaN(a)) continue; // no heartbeat yet from L in τ: nothing to measure from
    const b = nextHb[i]!;
    out.wGap[i] = gapVotes === 'per-tick' || (s.heartbeat[start + i] === 1) ? 1 : 0;
    if (!Number.isNaN(b)) {
      out.gapLn[i] = Math.log(b - a);
      out.wLost[i] = 1; // lost = 0
    } else {
      out.gapLn[i] = Math.log(s.tsMs[start + lastTick[k]!]! + tickMs - a);
      out.censored[i] = 1;
      if (endedByChange[k]) {
        out.lost[i] = 1;
        out.wLost[i] = 1;
      }
    }
  }
  return out;
}
