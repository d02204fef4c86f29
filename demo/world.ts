/**
 * The demo's deterministic core: one simulated cluster per policy ("lane"), all on the same scenario and
 * seed, driven forward in fixed 50 ms steps of simulated time and sampled after each step for the charts.
 * Controls act on every lane at the same simulated instant, so the lanes differ only by their policy's
 * decisions. No DOM, no clock, no randomness of its own: the same settings, seed and action log give the
 * same samples, in Node (the tests) and in the browser. main.ts is the thin shell that draws it.
 */
import { Simulation, type ClusterSnapshot, type ElectionEvent, type Scenario } from '../sim/index.js';
import { DEFAULT_RULES, type CompiledRules, type SharedModel } from '../runtime/index.js';
import { DEFAULT_SURVIVED_MARGIN, makeWatchedFactory, rulesWithSurvivedMargin, type PolicyKind, type WatchedPolicy } from './policies.js';

/** Simulated time between samples (ms): chart resolution, and the granularity of controls and downtime. */
export const SAMPLE_MS = 50;
/** Samples kept per lane (the charts show the last 30 s). */
export const HISTORY_SAMPLES = 30_000 / SAMPLE_MS;
/** Election events kept per lane for the timeline (counters are never trimmed). */
const MAX_ELECTIONS = 200;

export interface DemoSettings {
  /** Nodes, 3–9. */
  size: number;
  seed: number;
  /** One lane per entry (1 or 2 policies; the same kind twice is allowed). */
  policies: PolicyKind[];
  /**
   * The neuro-symbolic lanes' survived-silence margin (policies.ts SURVIVED_MARGINS; absent = the default
   * rules' 1.75). Fixed for a world, like the size: the page restarts the world to change it, so every lane
   * and the action log start from the same instant.
   */
  survivedMargin?: number;
}

export interface LinkSettings {
  /** One-way base delay of every link (ms). */
  latencyMs: number;
  /** Mean extra delay of the forced jittery state (ms, exponential); 0 = the calm/jittery Markov chain. */
  jitterMs: number;
  /** Extra loss on every link (%). */
  lossPct: number;
}

/** Elections come from the simulation's observation hook (SimulationOptions.onElection, sim/cluster.ts). */
export type { ElectionCause, ElectionEvent } from '../sim/index.js';

/** Rule categories shown in the "rules fired" strip, as bits of Sample.rulesFired. */
export const RULE_BITS = { floor: 1, ceiling: 2, 'rate limit': 4, 'pre-vote': 8, fallback: 16 } as const;
export type RuleCategory = keyof typeof RULE_BITS;
const KIND_CATEGORY: Record<string, RuleCategory> = {
  timing_floor: 'floor', survived_silence_floor: 'floor', ceiling: 'ceiling', max_change_per_tick: 'rate limit', conditional_floor: 'pre-vote', proposal_cap: 'ceiling',
};
/** rule id → category, for the rules the runtime guards with (the embedded defaults). */
const RULE_CATEGORY = new Map<string, RuleCategory>(
  DEFAULT_RULES.rules.flatMap((r) => (KIND_CATEGORY[r.kind] ? [[r.id, KIND_CATEGORY[r.kind]!] as [string, RuleCategory]] : [])),
);

export interface Sample {
  tMs: number;
  leaderId: string | null;
  /** Per node (index order): the timeout it holds while an up follower, else NaN. */
  timeoutMs: Float64Array;
  /** Per node: the heartbeat latency it observed at its last tick, NaN when none or not an up follower. */
  heartbeatLatencyMs: Float64Array;
  /** Neuro-symbolic lanes only (else NaN/null): the watched follower's neural outputs. */
  watched: string | null;
  proposalMs: number;
  confidence: number;
  pLeaderLost: number;
  /** Bits of RULE_BITS: categories that changed some follower's timeout since the previous sample. */
  rulesFired: number;
}

/** The demo scenario: LAN-like links of one settable base delay, modest client load, no scripted faults. */
export function demoScenario(size: number, seed: number): Scenario {
  return {
    schema_version: 1,
    name: `demo-${size}`,
    description: 'raft-ns live demo: faults come from the page controls',
    duration_ms: Number.MAX_SAFE_INTEGER,
    tick_ms: 10,
    seed,
    cluster: { size, heartbeat_interval_ms: 100, election_timeout_ms: 1000, pre_vote: true, check_quorum: true },
    // one_way_ms [1, 1]: every base delay is exactly 1 ms, so the latency control is a plain scale factor.
    network: { profile: 'lan', one_way_ms: [1, 1] },
    workload: { rate_per_s: 20 },
    faults: [],
  };
}

export class Lane {
  readonly sim: Simulation;
  /** Every term increment with its ground-truth cause, in order. */
  readonly elections: ElectionEvent[] = [];
  readonly watchedPolicies = new Map<string, WatchedPolicy>();
  readonly samples: Sample[] = [];
  /** The latest snapshot (drawn by the page). */
  snapshot: ClusterSnapshot;
  downtimeMs = 0;
  private readonly prevCounts = new WeakMap<WatchedPolicy, { rules: Record<string, number>; fallback: number }>();

  /** `rules` guard the neuro-symbolic provider (other policies ignore them). */
  constructor(readonly policy: PolicyKind, settings: DemoSettings, model: SharedModel | null, public watch: string, readonly rules: CompiledRules) {
    this.sim = new Simulation(demoScenario(settings.size, settings.seed), {
      seed: settings.seed, telemetry: false, policyFactory: makeWatchedFactory(policy, model, this.watchedPolicies, rules),
      onElection: (e) => this.elections.push(e),
    });
    this.snapshot = this.sim.snapshot();
  }

  /** Steps to `ms` and records one sample. */
  stepTo(ms: number): void {
    this.sim.advanceTo(ms);
    const snap = this.sim.snapshot();
    this.snapshot = snap;
    if (!(snap.leaderAlive && snap.leaderQuorumConnected)) this.downtimeMs += SAMPLE_MS;
    const n = snap.nodes.length;
    const timeoutMs = new Float64Array(n).fill(Number.NaN);
    const latency = new Float64Array(n).fill(Number.NaN);
    let rulesFired = 0;
    let auto: string | null = null;
    for (let i = 0; i < n; i++) {
      const node = snap.nodes[i]!;
      const follower = node.up && node.role === 'follower';
      if (follower) {
        timeoutMs[i] = node.electionTimeoutMs;
        auto ??= node.id;
      }
      const wp = this.watchedPolicies.get(node.id);
      if (!wp) continue;
      const lat = wp.last?.heartbeatLatencyMs;
      if (follower && typeof lat === 'number') latency[i] = lat;
      if (wp.neuro && node.up) rulesFired |= this.firedSince(wp);
    }
    const watched = this.watch === 'auto' ? auto : this.watch;
    const ex = watched !== null && this.policy === 'neuro' ? this.watchedPolicies.get(watched)?.explain() ?? null : null;
    this.samples.push({
      tMs: snap.nowMs, leaderId: snap.leaderId, timeoutMs, heartbeatLatencyMs: latency,
      watched: ex ? watched : null,
      proposalMs: ex && ex.source === 'model' ? ex.rawProposalMs : Number.NaN,
      confidence: ex && ex.source === 'model' ? ex.confidence : Number.NaN,
      pLeaderLost: ex && ex.source === 'model' ? ex.pLeaderLost : Number.NaN,
      rulesFired,
    });
    if (this.samples.length > HISTORY_SAMPLES) this.samples.splice(0, this.samples.length - HISTORY_SAMPLES);
    if (this.elections.length > MAX_ELECTIONS) this.elections.splice(0, this.elections.length - MAX_ELECTIONS);
  }

  /** Categories whose activation counters moved since this policy's previous sample. */
  private firedSince(wp: WatchedPolicy): number {
    const ex = wp.explain()!;
    const prev = this.prevCounts.get(wp);
    let bits = 0;
    if (prev) {
      for (const [id, count] of Object.entries(ex.ruleActivationCounts)) {
        const cat = RULE_CATEGORY.get(id);
        if (cat && count > (prev.rules[id] ?? 0)) bits |= RULE_BITS[cat];
      }
      if (ex.fallbackCount > prev.fallback) bits |= RULE_BITS.fallback;
    }
    this.prevCounts.set(wp, { rules: ex.ruleActivationCounts, fallback: ex.fallbackCount });
    return bits;
  }

  /** Counts for the scoreboard. */
  counts(): { elections: number; unnecessary: number; lostRaces: number; realFailures: number; downtimeMs: number } {
    return {
      elections: this.sim.elections,
      unnecessary: this.sim.unnecessaryElections,
      lostRaces: this.sim.lostRaces,
      realFailures: this.sim.elections - this.sim.unnecessaryElections - this.sim.lostRaces,
      downtimeMs: this.downtimeMs,
    };
  }
}

/** One recorded control action, so a session can be replayed exactly (simulated time, not wall time). */
export interface DemoAction {
  atMs: number;
  action: string;
  args: Array<string | number>;
}

export class DemoWorld {
  /** As given, with survivedMargin filled in. */
  readonly settings: Required<DemoSettings>;
  /** The rules every neuro-symbolic lane guards with: the default rules at settings.survivedMargin. */
  readonly rules: CompiledRules;
  readonly lanes: Lane[];
  readonly actions: DemoAction[] = [];
  nowMs = 0;
  links: LinkSettings = { latencyMs: 1, jitterMs: 0, lossPct: 0 };
  /** Extra CPU load per node id (%). */
  readonly cpuPct = new Map<string, number>();
  partitioned: string | null = null;
  private pendingMs = 0;

  constructor(settings: DemoSettings, model: SharedModel | null, watch = 'auto') {
    if (!(Number.isInteger(settings.size) && settings.size >= 3 && settings.size <= 9)) throw new RangeError(`demo: cluster size ${settings.size}, expected 3–9`);
    if (settings.policies.length < 1 || settings.policies.length > 2) throw new RangeError('demo: one or two policies');
    this.settings = { ...settings, survivedMargin: settings.survivedMargin ?? DEFAULT_SURVIVED_MARGIN };
    this.rules = rulesWithSurvivedMargin(this.settings.survivedMargin); // refuses a margin outside 0–10
    this.lanes = this.settings.policies.map((p) => new Lane(p, this.settings, model, watch, this.rules));
  }

  /** Advances simulated time by `ms` (accumulated: whole SAMPLE_MS steps only, so samples stay aligned). */
  advance(ms: number): void {
    this.pendingMs += Math.max(0, ms);
    while (this.pendingMs >= SAMPLE_MS) {
      this.pendingMs -= SAMPLE_MS;
      this.nowMs += SAMPLE_MS;
      for (const lane of this.lanes) lane.stepTo(this.nowMs);
    }
  }

  private record(action: string, ...args: Array<string | number>): void {
    this.actions.push({ atMs: this.nowMs, action, args });
  }

  setLinks(links: LinkSettings): void {
    this.links = { ...links };
    this.record('links', links.latencyMs, links.jitterMs, links.lossPct);
    for (const lane of this.lanes) {
      const c = lane.sim.controls;
      c.setLatencyScale(links.latencyMs); // base delays are exactly 1 ms (demoScenario)
      c.setJitterMs(links.jitterMs);
      c.setLoss(links.lossPct / 100);
    }
  }

  /** Crashes each lane's current leader (each lane may have elected a different node). */
  crashLeader(): void {
    this.record('crash-leader');
    for (const lane of this.lanes) if (lane.sim.trueLeader() >= 0) lane.sim.controls.crash('leader');
  }

  /** Restarts every crashed node. */
  restartCrashed(): void {
    this.record('restart-crashed');
    for (const lane of this.lanes) for (const n of lane.sim.nodes) if (!n.up) lane.sim.controls.restart(n.id);
  }

  /** Isolates `node` (an id or "leader", resolved per lane) until heal(); one partition at a time. */
  partition(node: string): void {
    this.record('partition', node);
    for (const lane of this.lanes) {
      lane.sim.controls.heal();
      lane.sim.controls.partition(node === 'leader' ? lane.snapshot.leaderId ?? 'n1' : node);
    }
    this.partitioned = node;
  }

  heal(): void {
    this.record('heal');
    for (const lane of this.lanes) lane.sim.controls.heal();
    this.partitioned = null;
  }

  /**
   * CPU contention on a node: `busyPct` of its CPU taken by other work, plus scheduler stalls that grow with
   * it (above 50 %: up to 2 stalls/s of ~300 ms mean), which is what actually delays heartbeats.
   */
  setCpu(node: string, busyPct: number): void {
    this.record('cpu', node, busyPct);
    const stallsPerS = busyPct > 50 ? ((busyPct - 50) / 50) * 2 : 0;
    for (const lane of this.lanes) lane.sim.controls.setCpuContention(node, busyPct, stallsPerS, 300);
    this.cpuPct.set(node, busyPct);
  }

  setWatch(watch: string): void {
    for (const lane of this.lanes) lane.watch = watch;
  }

  /**
   * The "Reproduce this run" text: the settings (the serving knob among them), then every control with its
   * simulated time. The same text replays the same run.
   */
  replayLog(): string {
    const s = this.settings;
    const head = `settings: ${s.size} nodes, seed ${s.seed}, policies ${s.policies.join(' + ')}, survived-silence margin ${s.survivedMargin}`;
    const lines = this.actions.map((a) => `${(a.atMs / 1000).toFixed(2)} s ${a.action}${a.args.length ? ` ${a.args.join(' ')}` : ''}`);
    return [head, ...(lines.length ? lines : ['no controls yet'])].join('\n');
  }

  /** Readable state for tests and the console (`window.__demo.state()`). */
  state(): DemoState {
    return {
      nowMs: this.nowMs,
      settings: this.settings,
      links: this.links,
      actions: this.actions,
      lanes: this.lanes.map((lane) => {
        const snap = lane.snapshot;
        const followers = snap.nodes.filter((n) => n.up && n.role === 'follower');
        return {
          policy: lane.policy,
          leaderId: snap.leaderId,
          term: Math.max(...snap.nodes.map((n) => n.term)),
          nodes: snap.nodes.map((n) => ({ id: n.id, up: n.up, role: n.role, term: n.term, timeoutMs: n.electionTimeoutMs })),
          followerTimeoutsMs: Object.fromEntries(followers.map((n) => [n.id, n.electionTimeoutMs])),
          ...lane.counts(),
          electionLog: lane.elections.slice(-20),
        };
      }),
    };
  }
}

export interface DemoState {
  nowMs: number;
  settings: Required<DemoSettings>;
  links: LinkSettings;
  actions: DemoAction[];
  lanes: Array<{
    policy: PolicyKind;
    leaderId: string | null;
    term: number;
    nodes: Array<{ id: string; up: boolean; role: string; term: number; timeoutMs: number }>;
    followerTimeoutsMs: Record<string, number>;
    elections: number;
    unnecessary: number;
    realFailures: number;
    downtimeMs: number;
    electionLog: ElectionEvent[];
  }>;
}
