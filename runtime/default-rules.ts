/**
 * The default safety rules, embedded so the runtime can load them without node:fs (browsers, bundlers).
 * Source of truth: rules/default.rules.json; test/runtime-rules.test.ts fails if the two differ.
 */
import type { SafetyRules } from './rules.js';

export const DEFAULT_RULES: SafetyRules = {
  "format": "raft-ns-safety-rules",
  "format_version": 1,
  "name": "default",
  "description": "Default guardrails for etcd/hashicorp-style clusters (100 ms heartbeats, 1-2 s static timeouts).",
  "static_fallback_ms": 1000,
  "rules": [
    {
      "id": "raft-timing-floor",
      "kind": "timing_floor",
      "k": 1,
      "absolute_floor_ms": 50,
      "rtt_window_ticks": 64,
      "why": "Raft needs broadcastTime << electionTimeout: never time out before a heartbeat interval plus a high quantile of recent round trips (the worst of the last rtt_window_ticks ticks, i.e. of the last few heartbeat RTTs). Lower than this, a live leader's next heartbeat can arrive after the timeout even when nothing is wrong."
    },
    {
      "id": "ceiling",
      "kind": "ceiling",
      "max_ms": 10000,
      "why": "Bounds the downtime of a real leader failure, whatever the model proposes."
    },
    {
      "id": "prevote-partition-floor",
      "kind": "conditional_floor",
      "min_ms": 150,
      "when": {
        "roles": [
          "pre-candidate"
        ],
        "unreachable_peers_more_than_fraction": 0.5
      },
      "why": "A pre-candidate that cannot reach a majority cannot win; retrying fast only adds load (Raft paper's 150 ms lower bound)."
    },
    {
      "id": "survived-silence-floor",
      "kind": "survived_silence_floor",
      "window_ms": 30000,
      "margin": 1.5,
      "why": "A live leader that was just seen to go silent this long (a GC or CPU stall, a jitter burst) and come back may do it again, and every follower fed the same silence would campaign at once: a follower's timeout is at least margin x the longest silence a leader survived (two of its contacts, one term, heard while this node could still hear a peer) that ended in the last window_ms."
    },
    {
      "id": "static-timeout-cap",
      "kind": "proposal_cap",
      "max_ms": 1000,
      "when": {
        "roles": [
          "follower"
        ]
      },
      "why": "The provider replaces a static election timeout (etcd's 1000 ms base before its randomization): a follower's proposal is at most that base, so the model can shorten the wait where it is confident and never lengthen it on its own; only the floors (Raft's timing, a survived stall) lift the deadline above it."
    },
    {
      "id": "max-change-per-tick",
      "kind": "max_change_per_tick",
      "max_increase_ms": 1000,
      "max_decrease_ms": 400,
      "why": "One noisy tick must not swing the timeout; shrinking is the direction that causes spurious elections, so it is slower."
    },
    {
      "id": "quantile-monotone-in-latency",
      "kind": "monotonic",
      "output": "log_gap_quantile",
      "feature": "heartbeat_latency",
      "direction": "nondecreasing",
      "region": {
        "min": [
          -5,
          -5,
          -5,
          -5
        ],
        "max": [
          5,
          5,
          5,
          5
        ]
      },
      "state": "reachable",
      "why": "Slower heartbeats must never shorten the proposed timeout, all else equal.",
      "tolerance": 0.05
    },
    {
      "id": "quantile-monotone-in-retries",
      "kind": "monotonic",
      "output": "log_gap_quantile",
      "feature": "rpc_retries",
      "direction": "nondecreasing",
      "region": {
        "min": [
          -5,
          -5,
          -5,
          -5
        ],
        "max": [
          5,
          5,
          5,
          5
        ]
      },
      "state": "reachable",
      "why": "More RPC retries mean a lossier network: the proposal must not shrink because of them.",
      "tolerance": 0.05
    },
    {
      "id": "input-domain",
      "kind": "input_domain",
      "normalized": {
        "min": [
          -5,
          -5,
          -5,
          -5
        ],
        "max": [
          5,
          5,
          5,
          5
        ]
      },
      "raw": {
        "heartbeat_latency_ms": [
          0,
          60000
        ],
        "log_replication_gap": [
          0,
          1000000000
        ],
        "rpc_retries": [
          0,
          1000000
        ],
        "cpu_idle_pct": [
          0,
          100
        ],
        "heartbeat_interval_ms": [
          1,
          60000
        ]
      },
      "why": "Proofs hold only inside this box; outside it the runtime uses the static fallback timeout."
    },
    {
      "id": "int8-budget",
      "kind": "quantization_budget",
      "max_abs_log_gap": 0.05,
      "max_abs_logit": 0.25,
      "at_quantile": 0.99,
      "max_loss_increase": 0.02,
      "why": "The int8 artifact may differ from the float model by at most ~5% in the proposed timeout on 99% of the ticks the runtime acts on, and may lose at most 2% of the held-out loss. Why a quantile: in the steepest decays the int8 path runs a tick or two ahead of or behind the float one, which a per-tick maximum charges as a level error; verify reports the maximum too."
    }
  ]
};
