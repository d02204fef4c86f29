/**
 * raft-ns simulator: a deterministic Raft cluster (pre-vote, check-quorum, client workload, network and
 * node faults) that produces telemetry with ground truth and closes the loop for timeout policies.
 * Browser-safe: nothing here imports node: modules, reads clocks or uses the global random number generator.
 *
 * @example Generate training data in-process
 *   const sim = new Simulation(builtinScenario('lan-5-jitter')!, { seed: 7 });
 *   const summary = sim.run();
 *   for (const row of sim.telemetry!.rows()) ...            // telemetry schema rows
 *   for (const gt of sim.telemetry!.groundTruthRows()) ...   // ground truth, never a model input
 *
 * @example Closed-loop evaluation: same seed, different policy per node
 *   const a = runClosedLoop(scenario, 3, (id, rng) => staticRandomizedTimeout(1000, rng));
 *   const b = runClosedLoop(scenario, 3, (id) => new MyLearnedPolicy(id));
 *   a.unnecessary_elections, b.failover_ms.p99, b.commit_latency_ms.mean, b.availability
 *
 * @example Browser demo: step in real time and poke the world
 *   sim.advanceTo(sim.nowMs + frameMs); draw(sim.snapshot());
 *   sim.controls.crash('leader'); sim.controls.setJitterMs(80); sim.controls.partition('n2');
 */
export { Simulation } from './cluster.js';
export type { SimulationOptions } from './cluster.js';
export type { ClusterSnapshot, NodeSnapshot, MessageSnapshot, ElectionCause, ElectionEvent } from './snapshot.js';
export type { TimeoutObservation, TimeoutPolicy, PolicyFactory, PolicySpec } from './policy.js';
export { staticRandomizedTimeout, fixedRangeTimeout, policyFactoryFromSpec } from './policy.js';
export { JacobsonKarelsTimeout, PhiAccrualTimeout, RandomizedTimeout, phi, phiCrossingMs } from './baselines.js';
export type { BaselineObservation, JacobsonOptions, PhiAccrualOptions } from './baselines.js';
export type { GroundTruthView } from './types.js';
export { OracleTimeout, ORACLE_DEFAULTS } from './oracle.js';
export type { OracleOptions } from './oracle.js';
export { makePrng } from './prng.js';
export type { Prng } from './prng.js';
export type { Scenario, ResolvedScenario, ResolvedClient, ClientSpec, ConnectionFailure, FaultSpec, JitterSpec } from './scenario.js';
export { resolveScenario, nodeIdOf } from './scenario.js';
export { builtinScenario, builtinScenarioNames, SUITE_KINDS, SUITE_PROFILES, SUITE_SIZES } from './scenarios.js';
export { SafetyViolation } from './safety.js';
export { TelemetryStore, TELEMETRY_COLUMNS } from './telemetry.js';
export type { SimTelemetryRow, GroundTruthRow } from './telemetry.js';
export type { RunSummary, Failover, Distribution } from './metrics.js';
export { distribution, percentile, splitLatencies } from './metrics.js';
export { runElectionTime, electionTimeCdf, electionStatistic, paperFiguresFor, PAPER_FIGURES } from './election-time.js';
export type { ElectionTimeOptions, ElectionTimeResult, PaperFigure } from './election-time.js';
export { WAN_REGIONS } from './network.js';

import { Simulation } from './cluster.js';
import type { PolicyFactory } from './policy.js';
import type { Scenario } from './scenario.js';
import type { RunSummary } from './metrics.js';

/**
 * Runs `scenario` on `seed` with `policyFactory` choosing every node's timeout policy, without telemetry,
 * and returns the evaluation metrics. The network, client and fault randomness depend only on the seed,
 * so two policies compared on the same seed face the same world until their decisions diverge it.
 */
export function runClosedLoop(scenario: Scenario, seed: number, policyFactory?: PolicyFactory): RunSummary {
  const sim = new Simulation(scenario, policyFactory === undefined ? { seed, telemetry: false } : { seed, telemetry: false, policyFactory });
  return sim.run();
}
