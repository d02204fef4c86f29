/**
 * The timeline chart's data: one scenario, one seed, every main policy in closed loop, and one follower's
 * view tick by tick — heartbeat latency, the timeout its policy arms, the model's confidence, and the
 * elections (term increments) the cluster went through. Recording wraps the node's policy; the wrapper only
 * reads, so the run is the same run the metrics come from.
 */
import { Simulation, type PolicyFactory, type Scenario, type TimeoutObservation } from '../../sim/index.js';
import { NeuroSymbolicTimeout, type SharedModel } from '../../runtime/index.js';
import { evaluationScenario } from './harness.js';
import { makePolicyFactory, UnguardedNeuralTimeout, type PolicyEntry } from './policies.js';

export interface TimelinePoint {
  t_ms: number;
  policy: string;
  /** null: the policy would never campaign now (the oracle while a leader serves the node). */
  timeout_ms: number | null;
  heartbeat_latency_ms: number | null;
  /** σ(ℓ): the model's P(leader_lost); null for the baselines. */
  p_leader_lost: number | null;
  /** |2·P − 1|: the runtime's confidence of the leader-lost head. */
  confidence: number | null;
  term: number;
  role: string;
}

export interface Timeline {
  scenario: string;
  seed: number;
  node: string;
  every_ticks: number;
  faults: Array<{ kind: string; at_ms: number; duration_ms: number | null }>;
  points: TimelinePoint[];
  /** Term increments seen by the node, per policy. */
  elections: Array<{ policy: string; t_ms: number; term: number }>;
}

/** Runs the timeline scenario once per policy, sampling the node every `everyTicks` ticks. */
export function recordTimeline(scenario: Scenario, seed: number, node: string, policies: readonly PolicyEntry[], model: SharedModel | null, everyTicks = 5): Timeline {
  const points: TimelinePoint[] = [];
  const elections: Timeline['elections'] = [];
  for (const p of policies) {
    if (p.spec.kind === 'model' && !model) continue;
    const { factory } = makePolicyFactory(p.spec, model);
    let tick = 0;
    let lastTerm = -1;
    let lastArmed = false;
    const wrapped: PolicyFactory = (id, rng, truth) => {
      const inner = factory(id, rng, truth);
      if (id !== node) return inner;
      return {
        observe(o: TimeoutObservation): void {
          inner.observe(o);
          if (lastTerm >= 0 && o.term > lastTerm) elections.push({ policy: p.id, t_ms: o.nowMs, term: o.term });
          lastTerm = o.term;
          // Off the sampling grid, a tick is still kept when the policy starts or stops arming a finite
          // timeout: the oracle arms one only for the few ticks between a loss and the next leader.
          const timeoutMs = inner.electionTimeoutMs();
          const armed = Number.isFinite(timeoutMs);
          const change = armed !== lastArmed;
          lastArmed = armed;
          if (tick++ % everyTicks !== 0 && !change) return;
          let pl: number | null = null;
          let conf: number | null = null;
          if (inner instanceof NeuroSymbolicTimeout) {
            const e = inner.explain();
            if (Number.isFinite(e.pLeaderLost)) { pl = e.pLeaderLost; conf = e.confidence; }
          } else if (inner instanceof UnguardedNeuralTimeout && Number.isFinite(inner.lastLogit)) {
            pl = 1 / (1 + Math.exp(-inner.lastLogit));
            conf = Math.abs(2 * pl - 1);
          }
          points.push({
            t_ms: o.nowMs, policy: p.id, timeout_ms: armed ? round3(timeoutMs) : null,
            heartbeat_latency_ms: o.heartbeatLatencyMs === null ? null : round3(o.heartbeatLatencyMs),
            p_leader_lost: pl === null ? null : round3(pl), confidence: conf === null ? null : round3(conf), term: o.term, role: o.role,
          });
        },
        electionTimeoutMs: () => inner.electionTimeoutMs(),
      };
    };
    try {
      new Simulation(evaluationScenario(scenario), { seed, telemetry: false, policyFactory: wrapped }).run();
    } catch {
      // A safety violation ends the run; the metrics table reports it, the timeline keeps what was recorded.
    }
  }
  const faults = (scenario.faults ?? []).map((f) => ({ kind: f.kind, at_ms: f.at_ms, duration_ms: 'duration_ms' in f ? f.duration_ms : 'restart_after_ms' in f ? (f.restart_after_ms ?? null) : null }));
  return { scenario: scenario.name, seed, node, every_ticks: everyTicks, faults, points, elections };
}

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}
