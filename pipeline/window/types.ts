/**
 * In-memory form of one split of a windows folder (docs/CONTRACTS.md §5), as `readWindows` returns it and
 * the training loop consumes it. Chunk k of a split holds T consecutive ticks of one node stream; chunks of
 * the same stream have consecutive `chunkIndex` values (0, 1, 2, …) so training can carry (h, c) from one
 * to the next. All per-tick arrays are row-major [count, T] (x: [count, T, 4]).
 */
export interface WindowSplit {
  name: 'train' | 'val' | 'test';
  T: number;
  count: number;
  x: Float32Array; // [count, T, 4] normalized features (runtime/features.ts)
  gapLn: Float32Array; // [count, T] ln(gap ms) or ln(lower bound) when censored
  censored: Float32Array; // [count, T] 1 = censored
  lost: Float32Array; // [count, T] leader_lost label
  wGap: Float32Array; // [count, T] 0 = masked
  wLost: Float32Array; // [count, T] 0 = masked / unknown
  streamId: Int32Array; // [count] dense stream index within the split
  chunkIndex: Int32Array; // [count] position of the chunk within its stream
  /**
   * [count, T] ln of the Jacobson/Karels estimate (SRTT + 4·RTTVAR over the stream's heartbeat inter-arrival
   * gaps seen up to and including that tick; NaN before two arrivals): the trivial baseline `train` reports.
   */
  jkLn: Float32Array;
  /**
   * [count, T] worst heartbeat RTT (ms) the node observed over the last `rtt_window_ticks` ticks, as the
   * runtime's guardrails compute it (0 when none; NaN in padding and in windows written before this field).
   * With the heartbeat interval it gives the Raft timing floor of that tick (verify check d).
   */
  worstRttMs: Float32Array;
}

export const SPLIT_NAMES = ['train', 'val', 'test'] as const;
