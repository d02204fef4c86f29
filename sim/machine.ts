/**
 * The machine a Raft node runs on: CPU, scheduler pauses and the disk. The cluster owns one per node and
 * changes it (faults, controls); the node never sees it, it only asks its host when a write is durable
 * (`NodeHost.persist`, sim/node.ts). Splitting the two is etcd's RawNode line: Raft state on one side,
 * the resources that decide when a step can run on the other.
 */
export class Machine {
  /** GC pause / CPU stall: nothing runs on the node before this time (µs). */
  pausedUntilUs = 0;
  /** When the current pause began (µs), for the CPU idle it costs. */
  pauseStartUs = 0;
  /** Single-threaded message handling: the next message starts no earlier than this (µs). */
  busyUntilUs = 0;
  /** Message handling time spent in the current telemetry tick (µs). */
  busyUsTick = 0;
  /** The disk is a FIFO queue: a write issued now completes at max(now, diskBusyUntilUs) + fsyncUs. */
  diskBusyUntilUs = 0;
  fsyncUs: number;
  /** Extra CPU load (0–1) from contention, slowing handling and lowering idle. */
  cpuLoad = 0;
  /** Scheduler stalls of a CPU fault: probability per tick and mean length (µs). */
  stallPerTick = 0;
  stallMeanUs = 0;
  /** reserveHandling's cost, kept while the load and base cost stay the same (the same quotient). */
  private costLoad = Number.NaN;
  private costBaseUs = Number.NaN;
  private costUs = 0;

  constructor(readonly baseFsyncUs: number) {
    this.fsyncUs = baseFsyncUs;
  }

  paused(nowUs: number): boolean {
    return this.pausedUntilUs > nowUs;
  }

  /** Reserves the next free handling slot for a message arriving now; returns when its handling starts. */
  reserveHandling(nowUs: number, messageCostUs: number): number {
    const start = Math.max(nowUs, this.pausedUntilUs, this.busyUntilUs);
    if (this.cpuLoad !== this.costLoad || messageCostUs !== this.costBaseUs) {
      this.costLoad = this.cpuLoad;
      this.costBaseUs = messageCostUs;
      this.costUs = messageCostUs / (1 - Math.min(this.cpuLoad, 0.95));
    }
    const costUs = this.costUs;
    this.busyUntilUs = start + costUs;
    this.busyUsTick += costUs;
    return start;
  }

  /** Queues one write (fsync) behind those already queued; returns when it is durable (µs). */
  diskWriteDoneUs(nowUs: number): number {
    const doneUs = Math.max(nowUs, this.diskBusyUntilUs) + this.fsyncUs;
    this.diskBusyUntilUs = doneUs;
    return doneUs;
  }

  /** Nothing runs for `durationUs` from now (a longer pause already under way wins). */
  pause(nowUs: number, durationUs: number): void {
    const until = nowUs + Math.round(durationUs);
    if (until <= this.pausedUntilUs) return;
    if (this.pausedUntilUs <= nowUs) this.pauseStartUs = nowUs;
    this.pausedUntilUs = until;
  }

  /** The process starts again: an idle CPU and an empty disk queue (the fault state stays). */
  restart(nowUs: number): void {
    this.busyUntilUs = nowUs;
    this.diskBusyUntilUs = nowUs;
    this.pausedUntilUs = 0;
  }

  /** CPU busy over the tick [tickStartUs, nowUs) in percent: background load, contention, handling, pauses. */
  busyPct(baseBusyPct: number, nowUs: number, tickStartUs: number, tickUs: number): number {
    const pausedUs = Math.max(0, Math.min(nowUs, this.pausedUntilUs) - Math.max(tickStartUs, this.pauseStartUs));
    return baseBusyPct + this.cpuLoad * 100 + (100 * (this.busyUsTick + pausedUs)) / tickUs;
  }
}
