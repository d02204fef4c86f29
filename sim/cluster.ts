/**
 * The simulation: a discrete-event scheduler with an integer clock (µs) driving N Raft nodes, a client,
 * the network and node models and the fault schedule, and recording telemetry, ground truth and the
 * evaluation metrics. Deterministic: every random draw comes from streams forked off the seed; ties in
 * time run in scheduling order. Step it (`step`, `advanceTo`), run it (`run`), inspect it (`snapshot`),
 * and change the world while it runs (`controls`) — the browser demo does all four.
 */
import { Client } from './client.js';
import { EventQueue } from './queue.js';
import { APP, CLIENT_REQ, CLIENT_RESP, makeMsg, MSG_NAMES, releaseMsg, type Msg } from './messages.js';
import { Network } from './network.js';
import { EV_NONE, LEADER, ROLE_NAMES, type NodeHost, type RawNode, type TickReport } from './node-host.js';
import { RaftNode } from './node.js';
import { Machine } from './machine.js';
import { roundUs } from './round.js';
import { makeGroundTruthView, type GroundTruthView } from './ground-truth.js';
import type { ClusterSnapshot, ElectionCause, ElectionEvent, MessageSnapshot } from './snapshot.js';
import { policyFactoryFromSpec, type PolicyFactory, type TimeoutObservation } from './policy.js';
import { makePrng, type Prng } from './prng.js';
import { H_CRASH, H_ELECTION, H_FAULT, H_RESTART, SafetyChecker } from './safety.js';
import { nodeIdOf, resolveScenario, type FaultSpec, type ResolvedScenario, type Scenario } from './scenario.js';
import { TelemetryStore } from './telemetry.js';
import { splitLatencies, summarize, type Failover, type RunSummary } from './metrics.js';

const EV_DELIVER = 0;
const EV_TICK = 1;
const EV_TIMER = 2;
const EV_FAULT_START = 3;
const EV_FAULT_END = 4;
const EV_ARRIVAL = 5;
const EV_RESTART = 6;
/** A message whose handling slot was reserved on arrival (the node was busy); handled without re-queueing. */
const EV_PROCESS = 7;
/** The client's retry backoff ended between ticks. */
const EV_CLIENT_WAKE = 8;

export interface SimulationOptions {
  /** Overrides the scenario's seed. */
  seed?: number;
  /** One policy per node; default: the scenario's `cluster.policy`. Each node gets its own PRNG stream,
   * identical whatever the policy, so two policies face the same network on the same seed. */
  policyFactory?: PolicyFactory;
  /** Record telemetry and ground truth (default true). Off for fast closed-loop evaluation. */
  telemetry?: boolean;
  /** Hand policy factories the read-only ground-truth view (default true; the oracle needs it). It draws
   * no random numbers, so turning it off changes no other policy's run. */
  groundTruth?: boolean;
  /** cluster_id in telemetry (default `sim-<scenario>-s<seed>`). */
  clusterId?: string;
  /** Events kept for a safety violation report (default 200). */
  historySize?: number;
  /** Planted bugs, for testing the safety checker: nodes that vote twice in a term. */
  bugs?: { doubleVote?: string[] };
  /**
   * Called when a node becomes a candidate (its term goes up), with the cause from the ground truth. It
   * must not change the simulation; it draws nothing, so runs with and without it are identical.
   * @example new Simulation(scenario, { onElection: (e) => log.push(e) })  // { tMs, node, term, cause }
   */
  onElection?: (event: ElectionEvent) => void;
}

/** Array slots for about `n` items: 10% and 1024 more, at most 2^18; 1024 when `n` is not a positive number. */
function capacityHint(n: number): number {
  return n > 0 && n < Number.POSITIVE_INFINITY ? Math.min(Math.ceil(n * 1.1) + 1024, 1 << 18) : 1024;
}

interface ActiveFault {
  id: number;
  spec: FaultSpec;
  /** Node indices the fault resolved to when it started. */
  nodes: number[];
  label: string;
}

export class Simulation {
  readonly cfg: ResolvedScenario;
  /** The Raft nodes, seen read-only (their state changes only through step, tick, crash, restart). */
  readonly nodes: readonly RawNode[];
  /** The machine each node runs on (CPU, pauses, disk): the simulation's to change, never the node's. */
  readonly machines: readonly Machine[];
  readonly nodeIds: string[];
  readonly telemetry: TelemetryStore | null;
  readonly safety: SafetyChecker;
  readonly network: Network;
  readonly client: Client;
  readonly clusterId: string;
  /** What only the simulation knows, for the evaluation's oracle (sim/ground-truth.ts); null when turned off. */
  readonly groundTruth: GroundTruthView | null;
  nowUs = 0;
  private readonly queue: EventQueue;
  private readonly tickUs: number;
  /** The nodes' view of the simulation (nodeHost()). */
  private readonly host: NodeHost & { nowUs: number };
  /**
   * Each node's observation, one object per node refilled at each of its ticks (TimeoutObservation says
   * how long a policy may read it): a fresh one per node per tick was half of a run's allocation.
   */
  private readonly observations: TimeoutObservation[];
  /** Which nodes tick, between onTick's two passes (1: it does). */
  private readonly ticking: Uint8Array;
  private readonly policyFactory: PolicyFactory;
  private readonly rootRng: Prng;
  /** Separate streams so that what one policy does (arming timers) never shifts another concern's draws:
   * the fault schedule (stalls) and the CPU noise stay identical across policies for a seed. */
  private readonly slackRng: Prng;
  private readonly nodeRngs: Array<{ stall: Prng; noise: Prng }>;
  private readonly restarts: number[];
  private readonly activeFaults: ActiveFault[] = [];
  /** Labels of the active faults; a new array whenever they change (ground truth interns by identity). */
  private faultLabels: string[] = [];
  private nextFaultId = 0;
  private tickStartUs = 0;
  private readonly timerSlackUs: number;
  private readonly onElection: ((event: ElectionEvent) => void) | null;
  /** A node whose own sends are dropped: it is crashing, so what it would still say never leaves it. */
  private mutedNode = -1;

  // Metrics.
  elections = 0;
  leaderChanges = 0;
  unnecessaryElections = 0;
  /** Candidacies in a term no higher than a live, quorum-connected leader's (ElectionCause 'lost race'). */
  lostRaces = 0;
  messagesSent = 0;
  messagesDropped = 0;
  private lastLeader = -1;
  /** The term lastLeader was elected in. Not that node's current term: a deposed leader may already have
   * moved on to its successor's term, and an outage keyed to that would wait for a third leader. */
  private lastLeaderTerm = 0;
  private availableTicks = 0;
  private totalTicks = 0;
  private readonly failovers: Failover[] = [];
  private outage: { startUs: number; leaderTerm: number; cause: string } | null = null;
  private prevHealthy = false;
  /** Intervals (µs, sorted, disjoint) when no leader could commit, sampled per tick; the last may be open.
   * Each request's downtime-attributable latency is its overlap with them (metrics.ts splitLatencies). */
  private readonly downStartsUs: number[] = [0];
  private readonly downEndsUs: number[] = [];

  constructor(scenario: Scenario | ResolvedScenario, opts: SimulationOptions = {}) {
    this.cfg = 'schema_version' in scenario ? resolveScenario(scenario, opts.seed) : { ...scenario, seed: opts.seed ?? scenario.seed };
    const cfg = this.cfg;
    this.tickUs = Math.round(cfg.tickMs * 1000);
    this.observations = Array.from({ length: cfg.size }, (): TimeoutObservation => ({
      nowMs: 0, tickMs: 0, role: 'follower', term: 0, leaderId: null, heartbeatLatencyMs: null, logReplicationGap: 0, rpcRetries: 0,
      cpuIdlePct: 0, heartbeatReceived: false, clusterSize: 0, peersReachable: 0, heartbeatIntervalMs: 0, leaderResigned: false,
    }));
    this.ticking = new Uint8Array(cfg.size);
    this.rootRng = makePrng(cfg.seed);
    this.slackRng = this.rootRng.fork('timer-slack');
    this.nodeRngs = Array.from({ length: cfg.size }, (_, i) => ({
      stall: this.rootRng.fork(`stall/${nodeIdOf(i)}`), noise: this.rootRng.fork(`cpu-noise/${nodeIdOf(i)}`),
    }));
    this.queue = new EventQueue();
    this.nodeIds = Array.from({ length: cfg.size }, (_, i) => nodeIdOf(i));
    this.clusterId = opts.clusterId ?? `sim-${cfg.name}-s${cfg.seed}`;
    this.telemetry = opts.telemetry === false ? null : new TelemetryStore(this.clusterId, this.nodeIds, cfg.durationMs / cfg.tickMs + 1);
    // Room for the requests and log entries the run will likely make: a slot never written costs no memory,
    // while growing an array copies it into fresh pages.
    const expectedEntries = capacityHint(cfg.ratePerS * (cfg.durationMs / 1000));
    this.safety = new SafetyChecker(this.nodeIds, opts.historySize ?? 200, expectedEntries);
    this.network = new Network(cfg, this.rootRng.fork('network'), Math.floor(this.rootRng.fork('network-weather').next() * 4294967296));
    this.policyFactory = opts.policyFactory ?? policyFactoryFromSpec(cfg.policy);
    this.groundTruth = opts.groundTruth === false ? null : makeGroundTruthView(this);
    this.restarts = new Array<number>(cfg.size).fill(0);
    const baseFsyncUs = Math.round(cfg.fsyncMs * 1000);
    this.machines = this.nodeIds.map(() => new Machine(baseFsyncUs));
    this.timerSlackUs = cfg.timerSlackMs * 1000;
    this.onElection = opts.onElection ?? null;
    const doubleVote = new Set(opts.bugs?.doubleVote ?? []);
    const host = this.nodeHost();
    this.host = host;
    this.nodes = this.nodeIds.map((id, i) => new RaftNode(i, id, {
        size: cfg.size,
        preVote: cfg.preVote,
        checkQuorum: cfg.checkQuorum,
        electionTimeoutUs: cfg.electionTimeoutMs * 1000,
        heartbeatIntervalUs: cfg.heartbeatIntervalMs * 1000,
        tickUs: this.tickUs,
        maxEntriesPerAppend: cfg.maxEntriesPerAppend,
        logCapacity: expectedEntries,
        doubleVote: doubleVote.has(id),
      }, host, this.makePolicy(i)));
    const cc = cfg.client;
    this.client = new Client(cfg.size, cfg.size, this, this.rootRng.fork('client'), {
      meanGapUs: cfg.ratePerS > 0 ? 1e6 / cfg.ratePerS : 0, poisson: cfg.arrival === 'poisson',
      requestTimeoutUs: cc.requestTimeoutMs * 1000, retryBackoffUs: cc.retryBackoffMs * 1000,
      retryJitterFraction: cc.retryJitterFraction, avoidUs: cc.avoidMs * 1000, quorum: Math.floor(cfg.size / 2) + 1,
      requestCapacity: expectedEntries,
    });
    this.queue.push(this.tickUs, EV_TICK, null);
    if (cfg.ratePerS > 0) this.queue.push(this.client.nextArrivalUs(0), EV_ARRIVAL, null);
    cfg.faults.forEach((f, i) => this.queue.push(Math.round(f.at_ms * 1000), EV_FAULT_START, f, i));
  }

  private makePolicy(i: number) {
    return this.policyFactory(this.nodeIds[i]!, this.rootRng.fork(`policy/${this.nodeIds[i]}/${this.restarts?.[i] ?? 0}`), this.groundTruth ?? undefined);
  }

  get nowMs(): number {
    return this.nowUs / 1000;
  }

  // ---- running ---------------------------------------------------------------------------------------

  /** Processes the next event; false when none is left. Throws SafetyViolation on a safety violation. */
  step(): boolean {
    const q = this.queue;
    const kind = q.pop();
    if (kind < 0) return false;
    const atUs = q.lastAtUs;
    this.nowUs = atUs;
    this.host.nowUs = atUs;
    const data = q.lastData;
    const arg = q.lastArg;
    switch (kind) {
      case EV_DELIVER: this.deliver(data as Msg, arg); break;
      case EV_PROCESS: this.process(data as Msg, arg); break;
      case EV_TICK: this.onTick(); break;
      case EV_TIMER: this.onTimer(data as RawNode, arg); break;
      case EV_FAULT_START: this.startFault(data as FaultSpec, arg); break;
      case EV_FAULT_END: this.endFault(data as ActiveFault); break;
      case EV_ARRIVAL:
        this.client.submit();
        this.queue.push(this.client.nextArrivalUs(this.nowUs), EV_ARRIVAL, null);
        break;
      case EV_RESTART: this.restartNode(arg); break;
      case EV_CLIENT_WAKE: this.client.onWake(); break;
      default: break;
    }
    return true;
  }

  /** Runs every event up to and including time `ms` (simulated), then sets the clock to `ms`. */
  advanceTo(ms: number): void {
    const limitUs = Math.round(ms * 1000);
    while (this.queue.peekTimeUs() <= limitUs) this.step();
    if (limitUs > this.nowUs) {
      this.nowUs = limitUs;
      this.host.nowUs = limitUs;
    }
  }

  /** Runs the scenario to its duration and returns the summary. */
  run(): RunSummary {
    this.advanceTo(this.cfg.durationMs);
    return this.summary();
  }

  /**
   * Starts from a settled cluster instead of an election (the election-time experiment): every node in
   * term 1 following `leader`, node i holding `logLengths[i]` entries; the commit index is what a quorum holds.
   */
  bootstrapLeader(leader: string, logLengths: readonly number[]): void {
    const l = this.nodeIds.indexOf(leader);
    const sorted = [...logLengths].sort((a, b) => a - b);
    const commit = sorted[this.cfg.size - this.nodes[0]!.quorum]!;
    for (const node of this.nodes) node.bootstrap(1, l, logLengths[node.index]!, commit);
    for (let i = 1; i <= commit; i++) for (const node of this.nodes) if (node.commit >= i) this.safety.onCommit(node.index, i, 1);
    this.safety.onBecameLeader(this.nowUs, l, 1, this.nodes[l]!.logTerms, this.nodes[l]!.lastIndex + 1);
    this.lastLeader = l;
    this.lastLeaderTerm = 1;
  }

  // ---- the nodes' host -------------------------------------------------------------------------------

  /**
   * What the nodes may ask of the simulation and report to it (sim/node.ts NodeHost); not part of its API.
   * Invariant: host.nowUs === this.nowUs (a data property set with the clock: the nodes read it on every
   * message, and a getter closure here was 3.5% of a run's profile).
   */
  private nodeHost(): NodeHost & { nowUs: number } {
    return {
      nowUs: this.nowUs,
      send: (m, atUs) => this.send(m, atUs),
      // Timers never fire exactly on time (scheduling, timer wheels); without this slack, nodes with equal
      // fixed timeouts would stay in lockstep forever, which no real cluster does.
      armTimer: (node, atUs, gen) => this.queue.push(atUs + roundUs(this.slackRng.exp(this.timerSlackUs)), EV_TIMER, node, gen),
      persist: (node) => this.machines[node.index]!.diskWriteDoneUs(this.nowUs),
      onBecameLeader: (node) => {
        this.safety.onBecameLeader(this.nowUs, node.index, node.term, node.logTerms, node.lastIndex + 1);
        if (node.index !== this.lastLeader) this.leaderChanges++;
        this.lastLeader = node.index;
        this.lastLeaderTerm = node.term;
      },
      onElectionStarted: (node) => this.onElectionStarted(node),
      onCommit: (node, index) => this.safety.onCommit(node.index, index, node.logTerms[index]!, node.term),
      onLeaderCommitted: (node) => {
        const o = this.outage;
        if (o !== null && node.term > o.leaderTerm) {
          this.failovers.push({ cause: o.cause, start_ms: o.startUs / 1000, end_ms: this.nowMs, duration_ms: (this.nowUs - o.startUs) / 1000 });
          this.outage = null;
        }
      },
      onTruncate: (node, fromIndex) => this.safety.onTruncate(node.index, fromIndex, node.commit, node.logTerms, node.term, node.lastIndex + 1),
    };
  }

  private onElectionStarted(node: RawNode): void {
    this.elections++;
    this.safety.record(this.nowUs, H_ELECTION, node.index, -1, node.term, node.lastIndex);
    // Unnecessary: the term went above a live leader's although it could still reach a quorum. A candidacy in
    // the leader's own term (or an older one) cannot depose it, since every voter it needs gave that term's
    // vote to the leader: it is a race the candidate lost (on WAN, at startup or just after a failover).
    const l = this.trueLeader();
    const live = l >= 0 && l !== node.index && this.quorumConnected(l);
    const spurious = live && node.term > this.nodes[l]!.term;
    if (spurious) this.unnecessaryElections++;
    else if (live) this.lostRaces++;
    if (this.onElection !== null) {
      const cause: ElectionCause = spurious ? 'spurious' : live ? 'lost race' : this.leaderChanges === 0 ? 'startup' : l >= 0 ? 'leader cut off' : 'leader down';
      this.onElection({ tMs: this.nowMs, node: node.id, term: node.term, cause });
    }
  }

  /** Sends a message from a node or the client, now or at `atUs`; also the client's host call. */
  send(m: Msg, atUs?: number): void {
    if (m.from === this.mutedNode) {
      releaseMsg(m);
      return;
    }
    const sendUs = atUs ?? this.nowUs;
    this.messagesSent++;
    const at = this.network.deliveryUs(m.from, m.to, sendUs);
    if (at < 0) {
      this.messagesDropped++;
      if (m.type === CLIENT_REQ && this.cfg.client.partitionedNode === 'refuse' && !this.network.connected(m.from, m.to)) {
        this.refuseClientAt(m.to, m.reqIds, sendUs + this.clientRoundTripUs(m.to));
      }
      releaseMsg(m);
      return;
    }
    this.queue.push(at, EV_DELIVER, m, sendUs);
  }

  wakeClientAt(atUs: number): void {
    this.queue.push(atUs, EV_CLIENT_WAKE, null);
  }

  // ---- events ----------------------------------------------------------------------------------------

  private deliver(m: Msg, sentUs: number): void {
    if (m.to === this.cfg.size) {
      if (m.type === CLIENT_RESP) this.client.onResponse(m);
      releaseMsg(m);
      return;
    }
    const node = this.nodes[m.to]!;
    if (!node.up) {
      // No process listens: the host's kernel refuses the connection, and the refusal travels back.
      if (m.type === CLIENT_REQ && this.cfg.client.crashedNode === 'refuse') this.refuseClient(node.index, m.reqIds);
      releaseMsg(m);
      return;
    }
    // Single-threaded handling: reserve the next free slot now, so a backlog costs one event per message.
    const start = this.machines[node.index]!.reserveHandling(this.nowUs, this.cfg.messageCostUs);
    if (start > this.nowUs) this.queue.push(start, EV_PROCESS, m, sentUs);
    else this.handle(node, m);
  }

  private process(m: Msg, sentUs: number): void {
    const node = this.nodes[m.to]!;
    if (!node.up) {
      releaseMsg(m);
      return;
    }
    const machine = this.machines[node.index]!;
    if (machine.paused(this.nowUs)) {
      // A pause began after the slot was reserved: wait it out.
      this.queue.push(machine.pausedUntilUs, EV_PROCESS, m, sentUs);
      return;
    }
    this.handle(node, m);
  }

  private handle(node: RawNode, m: Msg): void {
    this.safety.record(this.nowUs, m.type, m.from, m.to, m.term, m.type === APP ? m.index + (m.entryTerms === null ? 0 : m.entryCount) : m.index);
    node.step(m);
    releaseMsg(m);
  }

  private onTimer(node: RawNode, gen: number): void {
    if (!node.up) return;
    const machine = this.machines[node.index]!;
    if (machine.paused(this.nowUs)) this.queue.push(machine.pausedUntilUs, EV_TIMER, node, gen);
    else node.onTimer(gen);
  }

  private onTick(): void {
    const now = this.nowUs;
    const cfg = this.cfg;
    const tickMs = cfg.tickMs;
    const tsMs = roundUs(now / 1000);
    // Per-tick invariants of the observations (the same values each node's literal computed before).
    const nowMs = now / 1000;
    const peersWindowUs = cfg.electionTimeoutMs * 1000;
    const size = cfg.size;
    const heartbeatIntervalMs = cfg.heartbeatIntervalMs;
    this.network.tick();
    this.client.tick();
    const tel = this.telemetry;
    const nodes = this.nodes;
    const machines = this.machines;
    // First every up, running node's observation (telemetry rows in node order), told to its policy ahead.
    const ticking = this.ticking;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      const machine = machines[i]!;
      if (node.up && machine.stallPerTick > 0) {
        const stallRng = this.nodeRngs[i]!.stall;
        if (stallRng.next() < machine.stallPerTick && !machine.paused(now)) machine.pause(now, stallRng.exp(machine.stallMeanUs));
      }
      if (!node.up) {
        if (node.tickReport.event !== EV_NONE && tel !== null) this.recordRow(node, node.tickReport, tsMs, 0);
        node.drainTickReport();
        continue;
      }
      const cpuIdle = this.cpuIdle(i);
      // A leader's latency is its worst recent follower RTT (docs/ARTIFACT.md §3.2), brought up to date on
      // every tick it is up, recorded or not: the observation must not depend on whether telemetry is on.
      const latencyMs = node.heartbeatLatency();
      if (machine.paused(now)) {
        // A paused node does nothing this tick: its report keeps accumulating into the next row.
        if (tel !== null) this.recordRow(node, node.tickReport, tsMs, cpuIdle);
        continue;
      }
      const report = node.drainTickReport();
      machine.busyUsTick = 0;
      // One gap for the row and the observation: nothing between the two reads changes it.
      const gap = node.replicationGap();
      if (tel !== null) {
        tel.push(tsMs, i, node.term, node.role, node.leader, latencyMs, gap, report.retries, cpuIdle,
          report.heartbeatReceived, report.event);
      }
      // Every field, constants included: a policy that wrote to last tick's object must not see its own writes.
      const obs = this.observations[i]!;
      obs.nowMs = nowMs; obs.tickMs = tickMs;
      obs.role = ROLE_NAMES[node.role]!; obs.term = node.term; obs.leaderId = node.leader < 0 ? null : this.nodeIds[node.leader]!;
      obs.heartbeatLatencyMs = latencyMs < 0 ? null : latencyMs;
      obs.logReplicationGap = gap; obs.rpcRetries = report.retries; obs.cpuIdlePct = cpuIdle;
      obs.heartbeatReceived = report.heartbeatReceived;
      obs.clusterSize = size; obs.peersReachable = node.peersHeardWithin(peersWindowUs);
      obs.heartbeatIntervalMs = heartbeatIntervalMs;
      obs.leaderResigned = node.leaderResigned;
      node.policy.willObserve?.(obs);
      ticking[i] = 1;
    }
    // Then the nodes tick, in order. Splitting the loop changes nothing a node sees: a node's tick reaches
    // other nodes only through messages (delivered by later events), and the first pass reads only each
    // node's own state and random streams. It lets the policies' models step together (willObserve).
    for (let i = 0; i < nodes.length; i++) {
      if (ticking[i] === 0) continue;
      ticking[i] = 0;
      nodes[i]!.tick(this.observations[i]!);
    }
    this.groundTruthTick(tsMs);
    this.tickStartUs = now;
    this.queue.push(now + this.tickUs, EV_TICK, null);
  }

  private recordRow(node: RawNode, report: Readonly<TickReport>, tsMs: number, cpuIdle: number): void {
    this.telemetry!.push(tsMs, node.index, node.term, node.role, node.leader, node.heartbeatLatency(),
      node.replicationGap(), report.retries, cpuIdle, report.heartbeatReceived, report.event);
  }

  /** CPU idle over the tick just ended: background load, contention, message handling and pauses, with noise. */
  private cpuIdle(i: number): number {
    const busyPct = this.machines[i]!.busyPct(this.cfg.baseBusyPct, this.nowUs, this.tickStartUs, this.tickUs);
    const idle = 100 - busyPct + this.nodeRngs[i]!.noise.uniform(-1.5, 1.5);
    return roundUs(Math.min(100, Math.max(0, idle)) * 10) / 10;
  }

  // ---- ground truth ----------------------------------------------------------------------------------

  /** The up node that believes it leads in the highest term, or -1. */
  trueLeader(): number {
    const nodes = this.nodes;
    let best = -1;
    let bestTerm = 0;
    for (let i = 0; i < nodes.length; i++) {
      const node = nodes[i]!;
      if (node.up && node.role === LEADER && (best < 0 || node.term > bestTerm)) {
        best = i;
        bestTerm = node.term;
      }
    }
    return best;
  }

  /** Whether node l can exchange messages both ways with a quorum of up nodes (itself included). */
  quorumConnected(l: number): boolean {
    const nodes = this.nodes;
    let k = 0;
    for (let j = 0; j < nodes.length; j++) {
      if (nodes[j]!.up && (j === l || this.network.linked(l, j))) k++;
    }
    return k >= nodes[0]!.quorum;
  }

  /** Bit 1: quorumConnected(l); bit 2: l can commit (it runs, and a quorum in its term can exchange messages
   * with it). One pass that tests each link once; l is the true leader, so it is up. */
  private leaderReach(l: number): number {
    const nodes = this.nodes;
    const term = nodes[l]!.term;
    let connected = 1;
    let inTerm = 1;
    for (let j = 0; j < nodes.length; j++) {
      if (j === l || !nodes[j]!.up || !this.network.linked(l, j)) continue;
      connected++;
      if (nodes[j]!.term === term) inTerm++;
    }
    const commits = inTerm >= nodes[l]!.quorum && !this.machines[l]!.paused(this.nowUs);
    return (connected >= nodes[0]!.quorum ? 1 : 0) | (commits ? 2 : 0);
  }

  private groundTruthTick(tsMs: number): void {
    const l = this.trueLeader();
    const alive = l >= 0;
    const reach = alive ? this.leaderReach(l) : 0;
    const qc = (reach & 1) !== 0;
    const committable = (reach & 2) !== 0;
    this.totalTicks++;
    if (committable) this.availableTicks++;
    // The sample holds until the next one: a transition is placed at the tick that saw it (≤ 1 tick late).
    const down = this.downStartsUs.length > this.downEndsUs.length;
    if (committable && down) this.downEndsUs.push(this.nowUs);
    else if (!committable && !down) this.downStartsUs.push(this.nowUs);
    const healthy = alive && qc;
    if (this.prevHealthy && !healthy) this.beginOutage(this.lastLeader, 'leader-lost');
    this.prevHealthy = healthy;
    if (this.telemetry !== null) this.telemetry.pushGroundTruth(tsMs, alive, qc, l, this.faultLabels);
  }

  /**
   * An outage of `leader`'s leadership; it ends at the first commit of a leader of a later term. Keyed to the
   * term the leader was elected in: when a live leader loses its quorum because a successor's vote reached it
   * first, it is already a follower in the successor's term, and keying to that term made the successor's
   * commits not count (an outage open to the end of the run).
   */
  private beginOutage(leader: number, cause: string): void {
    if (this.outage !== null || leader < 0) return;
    const leaderTerm = leader === this.lastLeader ? this.lastLeaderTerm : this.nodes[leader]!.term;
    this.outage = { startUs: this.nowUs, leaderTerm, cause };
  }

  // ---- faults ----------------------------------------------------------------------------------------

  private resolveNode(ref: string): number {
    if (ref === 'leader') {
      const l = this.trueLeader();
      return l >= 0 ? l : 0;
    }
    const i = this.nodeIds.indexOf(ref);
    return i >= 0 ? i : 0;
  }

  private startFault(spec: FaultSpec, _index: number): void {
    const id = this.nextFaultId++;
    const refs = 'node' in spec ? [spec.node] : 'nodes' in spec && spec.nodes !== undefined ? spec.nodes : [];
    const nodes = refs.map((r) => this.resolveNode(r));
    const label = nodes.length > 0 ? `${spec.kind}:${nodes.map((i) => this.nodeIds[i]).join('+')}` : spec.kind;
    const fault: ActiveFault = { id, spec, nodes, label };
    this.safety.record(this.nowUs, H_FAULT, -1, -1, 1, id);
    const wasLeader = nodes.length === 1 && nodes[0] === this.trueLeader() && this.quorumConnected(nodes[0]!);
    switch (spec.kind) {
      case 'crash': {
        if (wasLeader) this.beginOutage(nodes[0]!, 'leader-crash');
        this.crashNode(nodes[0]!);
        if (spec.restart_after_ms !== undefined) this.queue.push(this.nowUs + Math.round(spec.restart_after_ms * 1000), EV_RESTART, null, nodes[0]!);
        return;
      }
      case 'gc_pause':
        this.machines[nodes[0]!]!.pause(this.nowUs, spec.pause_ms * 1000);
        return;
      case 'cpu':
        this.setCpu(nodes[0]!, Math.min(0.98, this.machines[nodes[0]!]!.cpuLoad + spec.busy_pct / 100), spec.stalls_per_s ?? 0, spec.stall_mean_ms ?? 0);
        break;
      case 'slow_disk':
        this.machines[nodes[0]!]!.fsyncUs = Math.round(spec.fsync_ms * 1000);
        break;
      default:
        break;
    }
    this.activeFaults.push(fault);
    this.faultLabels = this.activeFaults.map((f) => f.label);
    this.applyNetworkFaults();
    if (spec.kind === 'partition' && this.cfg.client.partitionedNode === 'refuse' && !this.network.connected(this.cfg.size, nodes[0]!)) {
      this.refuseClientAt(nodes[0]!, null, this.nowUs + this.clientRoundTripUs(nodes[0]!));
    }
    if (wasLeader && spec.kind === 'partition' && !this.quorumConnected(nodes[0]!)) this.beginOutage(nodes[0]!, 'leader-isolation');
    if (spec.kind === 'split') {
      const l = this.trueLeader();
      if (l >= 0 && !this.quorumConnected(l)) this.beginOutage(l, 'leader-isolation');
    }
    if ('duration_ms' in spec && Number.isFinite(spec.duration_ms)) {
      this.queue.push(this.nowUs + Math.round(spec.duration_ms * 1000), EV_FAULT_END, fault);
    }
  }

  private endFault(fault: ActiveFault): void {
    const k = this.activeFaults.indexOf(fault);
    if (k < 0) return;
    this.activeFaults.splice(k, 1);
    this.faultLabels = this.activeFaults.map((f) => f.label);
    this.safety.record(this.nowUs, H_FAULT, -1, -1, 0, fault.id);
    const spec = fault.spec;
    const machine = this.machines[fault.nodes[0] ?? 0]!;
    if (spec.kind === 'cpu') this.setCpu(fault.nodes[0]!, Math.max(0, machine.cpuLoad - spec.busy_pct / 100), 0, 0);
    else if (spec.kind === 'slow_disk') machine.fsyncUs = machine.baseFsyncUs;
    this.applyNetworkFaults();
  }

  /** Rebuilds the network's fault matrices from the active faults. */
  private applyNetworkFaults(): void {
    this.network.applyFaults(this.activeFaults, this.nodeIds, this.cfg.jitter.jittery_mean_ms);
  }

  private crashNode(i: number): void {
    const node = this.nodes[i]!;
    if (!node.up) return;
    this.safety.record(this.nowUs, H_CRASH, i, -1, node.term, node.lastIndex);
    // A crashed process answers nothing; its connections break instead (below), requests it had
    // accepted but not committed included.
    this.mutedNode = i;
    node.crash();
    this.mutedNode = -1;
    if (this.cfg.client.crashedNode === 'refuse') this.refuseClient(i, null);
  }

  /** Node i's host refuses or resets the client's connection: `reqIds` fail (null: every request on it). */
  private refuseClient(i: number, reqIds: number[] | null): void {
    const r = makeMsg(CLIENT_RESP, i, this.cfg.size, 0);
    r.reject = true;
    r.refused = true;
    r.reqIds = reqIds;
    this.send(r);
  }

  /** The network itself reports node i unreachable (no path to the node, so no message from it). */
  private refuseClientAt(i: number, reqIds: number[] | null, atUs: number): void {
    const r = makeMsg(CLIENT_RESP, i, this.cfg.size, 0);
    r.reject = true;
    r.refused = true;
    r.reqIds = reqIds;
    this.queue.push(atUs, EV_DELIVER, r, this.nowUs);
  }

  /** Base round trip between the client and node i (µs). */
  private clientRoundTripUs(i: number): number {
    return Math.round((this.network.baseMs(this.cfg.size, i) + this.network.baseMs(i, this.cfg.size)) * 1000);
  }

  private restartNode(i: number): void {
    const node = this.nodes[i]!;
    if (node.up) return;
    this.restarts[i] = this.restarts[i]! + 1;
    this.machines[i]!.restart(this.nowUs);
    node.restart(this.makePolicy(i));
    this.safety.record(this.nowUs, H_RESTART, i, -1, node.term, node.lastIndex);
  }

  /** Sets node i's CPU contention: extra load (0–1) and scheduler stalls (per second, mean length). */
  private setCpu(i: number, load: number, stallsPerS: number, stallMeanMs: number): void {
    const machine = this.machines[i]!;
    machine.cpuLoad = load;
    machine.stallPerTick = stallsPerS * (this.cfg.tickMs / 1000);
    machine.stallMeanUs = stallMeanMs * 1000;
  }

  // ---- runtime controls (browser demo) ---------------------------------------------------------------

  /** Changes the world while the simulation runs. Node arguments take an id or `"leader"`. */
  readonly controls = {
    /** Multiplies every link's base one-way delay. */
    setLatencyScale: (scale: number): void => { this.network.overrides.latencyScale = Math.max(0, scale); },
    /** Forces the jittery state on every link with this mean extra delay (ms); 0 returns to the Markov chain. */
    setJitterMs: (ms: number): void => { this.network.overrides.jitterMs = Math.max(0, ms); },
    /** Extra loss probability on every link, [0, 1]. */
    setLoss: (p: number): void => { this.network.overrides.loss = Math.min(1, Math.max(0, p)); },
    /** Cuts a node off (until `heal`). */
    partition: (node: string, direction: 'both' | 'outbound' | 'inbound' = 'both'): void => {
      this.startFault({ kind: 'partition', at_ms: this.nowMs, duration_ms: Number.POSITIVE_INFINITY, node, direction }, -1);
    },
    /** Ends every partition and split. */
    heal: (): void => {
      for (const f of [...this.activeFaults]) if (f.spec.kind === 'partition' || f.spec.kind === 'split') this.endFault(f);
    },
    /** Sets a node's extra CPU load (%) and optional stall rate. */
    setCpuContention: (node: string, busyPct: number, stallsPerS = 0, stallMeanMs = 0): void => {
      this.setCpu(this.resolveNode(node), Math.min(0.98, Math.max(0, busyPct / 100)), stallsPerS, stallMeanMs);
    },
    crash: (node = 'leader'): void => {
      const i = this.resolveNode(node);
      if (i === this.trueLeader() && this.quorumConnected(i)) this.beginOutage(i, 'leader-crash');
      this.crashNode(i);
    },
    restart: (node: string): void => this.restartNode(this.resolveNode(node)),
    gcPause: (node: string, ms: number): void => this.machines[this.resolveNode(node)]!.pause(this.nowUs, ms * 1000),
  };

  // ---- inspection ------------------------------------------------------------------------------------

  snapshot(): ClusterSnapshot {
    const now = this.nowUs;
    const l = this.trueLeader();
    const msgs: MessageSnapshot[] = [];
    for (const ev of this.queue.pending()) {
      if (ev.kind !== EV_DELIVER && ev.kind !== EV_PROCESS) continue;
      const m = ev.data as Msg;
      msgs.push({
        type: MSG_NAMES[m.type]!, from: m.from < this.cfg.size ? this.nodeIds[m.from]! : 'client',
        to: m.to < this.cfg.size ? this.nodeIds[m.to]! : 'client', term: m.term, sentMs: ev.arg / 1000, deliverMs: ev.atUs / 1000,
        entries: m.entryTerms !== null ? m.entryCount : m.reqIds?.length ?? 0,
      });
    }
    msgs.sort((a, b) => a.deliverMs - b.deliverMs);
    return {
      nowMs: now / 1000,
      nodes: this.nodes.map((node) => ({
        id: node.id, up: node.up, paused: this.machines[node.index]!.paused(now), role: ROLE_NAMES[node.role]!, term: node.term,
        leaderId: node.leader < 0 ? null : this.nodeIds[node.leader]!, votedFor: node.votedFor < 0 ? null : this.nodeIds[node.votedFor]!,
        commitIndex: node.commit, lastIndex: node.lastIndex, electionTimeoutMs: node.policy.electionTimeoutMs(),
        msSinceLeaderContact: (now - node.timerBaseUs) / 1000, cpuLoadPct: this.machines[node.index]!.cpuLoad * 100, region: this.network.region[node.index]!,
      })),
      leaderId: l < 0 ? null : this.nodeIds[l]!,
      leaderAlive: l >= 0,
      leaderQuorumConnected: l >= 0 && this.quorumConnected(l),
      messagesInFlight: msgs,
      activeFaults: this.faultLabels.slice(),
      links: { ...this.network.overrides },
      committedEntries: this.safety.committedLength,
      elections: this.elections,
      unnecessaryElections: this.unnecessaryElections,
      lostRaces: this.lostRaces,
      requestsCommitted: this.client.committed,
      meanCommitLatencyMs: this.client.meanLatencyMs,
    };
  }

  summary(): RunSummary {
    return summarize(this.cfg, {
      clusterId: this.clusterId,
      simulatedMs: this.nowMs,
      elections: this.elections,
      preVoteRounds: this.nodes.reduce((a, n) => a + n.preVoteRounds, 0),
      leaderChanges: this.leaderChanges,
      unnecessaryElections: this.unnecessaryElections,
      lostRaces: this.lostRaces,
      failovers: this.failovers,
      openOutage: this.outage === null ? null : { cause: this.outage.cause, start_ms: this.outage.startUs / 1000 },
      availability: this.totalTicks > 0 ? this.availableTicks / this.totalTicks : Number.NaN,
      latenciesMs: this.client.latenciesMs(),
      latencySplitMs: splitLatencies(this.client.submitUs.subarray(1), this.client.doneUs.subarray(1), this.downStartsUs, this.downEndsUs, this.nowUs), // index 0 is unused
      submitted: this.client.submitted,
      messagesSent: this.messagesSent,
      messagesDropped: this.messagesDropped,
      committedEntries: this.safety.committedLength,
      telemetryRows: this.telemetry?.numRows ?? 0,
      finalTerms: this.nodes.map((n) => n.term),
    });
  }
}
