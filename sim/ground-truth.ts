/**
 * The simulation's ground truth as a read-only view for policy factories: who leads, which processes run,
 * which links carry messages. No real node can know this, so only the evaluation's oracle reads it
 * (ground truth is for evaluation only, never a model input). The view reads the simulation when
 * asked and draws no random numbers, so handing it to a factory whose policy ignores it changes nothing:
 * every other policy's run stays bit-identical (test/oracle.test.ts).
 */
import type { Network } from './network.js';
import type { Machine } from './machine.js';
import { LEADER, type RawNode } from './node-host.js';
import type { GroundTruthView } from './types.js';

export type { GroundTruthView } from './types.js';

/** What the view reads; `Simulation` satisfies it. */
export interface GroundTruthSource {
  readonly nowUs: number;
  readonly nodes: readonly RawNode[];
  readonly machines: readonly Machine[];
  readonly nodeIds: readonly string[];
  readonly network: Network;
  trueLeader(): number;
  quorumConnected(l: number): boolean;
}

/** The view over a simulation. */
export function makeGroundTruthView(src: GroundTruthSource): GroundTruthView {
  const indexOf = new Map(src.nodeIds.map((id, i) => [id, i]));
  const index = (id: string): number => {
    const i = indexOf.get(id);
    if (i === undefined) throw new Error(`sim: ground truth: unknown node ${id}`);
    return i;
  };
  const linked = (a: number, b: number): boolean => src.network.connected(a, b) && src.network.connected(b, a);
  return {
    leaderFor(nodeId) {
      const i = index(nodeId);
      const l = src.trueLeader();
      if (l < 0) return null;
      const leader = src.nodes[l]!;
      if (leader.role !== LEADER || leader.term < src.nodes[i]!.term) return null;
      if (l !== i && !linked(l, i)) return null;
      return src.quorumConnected(l) ? src.nodeIds[l]! : null;
    },
    reachesQuorum(nodeId) {
      // The same test the simulation applies to a leader (Simulation.quorumConnected), asked of this node.
      return src.quorumConnected(index(nodeId));
    },
    quorumRoundTripMs(nodeId) {
      const i = index(nodeId);
      const need = src.nodes[i]!.quorum - 1;
      if (need <= 0) return 0;
      const rttsUs: number[] = [];
      for (const node of src.nodes) {
        const j = node.index;
        if (j === i || !node.up || !linked(i, j)) continue;
        rttsUs.push(src.network.expectedDelayUs(i, j) + src.machines[j]!.fsyncUs + src.network.expectedDelayUs(j, i));
      }
      rttsUs.sort((a, b) => a - b);
      return rttsUs.length >= need ? rttsUs[need - 1]! / 1000 : Number.POSITIVE_INFINITY;
    },
    electionTimerOriginMs(nodeId) {
      return src.nodes[index(nodeId)]!.timerBaseUs / 1000;
    },
  };
}
