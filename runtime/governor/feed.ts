import type { BusEvent } from "../events/bus.ts";
import { gpuLoadNodes } from "../hardware/sensors.ts";
import type { SelfUsageRecorder } from "../offpeak/self-usage.ts";
import { processGroupMembers } from "../os/process-identity.ts";
import type { Clock, Logger } from "../plugin-api.ts";
import type { Governor } from "./governor.ts";
import { GpuReporter } from "./gpu-readers.ts";
import { LatencySignal } from "./latency-signal.ts";
import { startSampling } from "./loop.ts";
import { ResourceSampler, type Sample } from "./sampler.ts";

export interface GovernorFeedParts {
  governor: Governor;
  /** `/` on a machine, a recorded tree in tests. */
  hostRoot: string;
  /** The home: samples read how full its disk is. */
  home: string;
  intervalMs: number;
  /** PATH searched for nvidia-smi and tegrastats (Environment.searchPath). */
  toolPath?: string;
  clock: Clock;
  /** Where a GPU reader that stops (and reads again) is told. */
  logger: Logger;
  /** `run.process` events name the process groups of the trainers our runs start. */
  events: { subscribe(listener: (event: BusEvent) => void): () => void };
  /** edgetrain's own record of activity, from which off-peak windows are learned. */
  usage: SelfUsageRecorder;
  /** After the governor has seen a sample: the disk is checked and queued runs may start. */
  afterSample(sample: Sample): void;
  /** governor.latency_guard.window in ms, read at each sample so that a reloaded profile applies; 0 or absent: off. */
  latencyWindowMs?(): number;
}

const USAGE_FLUSH_MS = 60_000;

/**
 * Feeds the governor a sample every sample_interval: the machine's load without edgetrain's own
 * processes (the daemon, its trainers' process groups), and the rate of predictions answered.
 */
export class GovernorFeed {
  /** Process groups of trainers started by our runs: their CPU is edgetrain's, not the machine being busy. */
  private readonly trainerGroups = new Set<number>();
  private answered = 0;
  private stop?: () => void;
  private latency?: LatencySignal;

  constructor(private readonly parts: GovernorFeedParts) {}

  /** One prediction answered: the governor pauses runs on their rate (pause_predictions_per_s). */
  countPrediction(): void {
    this.answered++;
    this.latency?.answered();
  }

  start(): void {
    const { governor, hostRoot, home, intervalMs, clock, usage } = this.parts;
    const unsubscribe = this.parts.events.subscribe((event) => {
      if (event.type === "run.process" && typeof event.data.pid === "number") this.trainerGroups.add(event.data.pid);
    });
    // A GPU without a sysfs load node is read by one long-lived nvidia-smi or tegrastats, not a spawn per sample.
    const command = gpuLoadNodes(hostRoot).length
      ? undefined
      : (["nvidia-smi", "tegrastats"] as const)
          .map((name) => [name, Bun.which(name, { PATH: this.parts.toolPath })] as const)
          .find(([, path]) => path);
    const reporter = command
      ? new GpuReporter({ kind: command[0], command: command[1]!, intervalMs, clock, logger: this.parts.logger })
      : undefined;
    reporter?.start();
    const sampler = new ResourceSampler(
      hostRoot,
      () => this.ownPids(),
      () => clock.now(),
      reporter,
      home,
    );
    const flushEvery = clock.setInterval(() => usage.flush(), USAGE_FLUSH_MS);
    let answeredBefore = this.answered;
    let answeredAt = clock.now();
    const stopWindows = this.startLatencyWindows();
    const stopSampling = startSampling(sampler, intervalMs, clock, (sample) => {
      sample.predictionsPerSecond = ((this.answered - answeredBefore) * 1000) / Math.max(1, sample.at - answeredAt);
      answeredBefore = this.answered;
      answeredAt = sample.at;
      governor.observe(sample);
      // A sample /proc could not give counts for nothing in the learned off-peak windows.
      if (sample.cpuPercent !== undefined && sample.memoryPercent !== undefined)
        usage.sample(sample.at, sample.cpuPercent, sample.memoryPercent);
      this.parts.afterSample(sample);
      stopWindows.follow();
    });
    this.stop = () => {
      stopSampling();
      stopWindows.stop();
      unsubscribe();
      reporter?.stop();
      clock.clearInterval(flushEvery);
      usage.flush();
    };
  }

  /**
   * Hands the governor a latency window every latency_guard.window, on a timer of its own that follows the
   * profile: `follow()` re-arms it when a reload changed the window or turned the guard off or on.
   */
  private startLatencyWindows(): { follow(): void; stop(): void } {
    const { governor, clock } = this.parts;
    let windowMs = 0;
    let timer: unknown;
    const stop = () => {
      if (timer !== undefined) clock.clearInterval(timer);
      timer = undefined;
      this.latency?.stop();
      this.latency = undefined;
    };
    const follow = () => {
      const wanted = this.parts.latencyWindowMs?.() ?? 0;
      if (wanted === windowMs) return;
      stop();
      windowMs = wanted;
      if (wanted <= 0) return;
      const signal = (this.latency = new LatencySignal(clock.now()));
      timer = clock.setInterval(() => governor.observeLatency(signal.take(clock.now())), wanted);
    };
    follow();
    return { follow, stop };
  }

  dispose(): void {
    this.stop?.();
    this.stop = undefined;
  }

  private ownPids(): number[] {
    const pids = [process.pid];
    for (const group of this.trainerGroups) {
      const members = processGroupMembers(group);
      if (members.length === 0) this.trainerGroups.delete(group);
      pids.push(...members);
    }
    return pids;
  }
}
