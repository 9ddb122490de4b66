import type { RunCapacity } from "../../../runtime/plugin-api.ts";

/** What the staged start reads of a worker. */
export interface RampWorker {
  readonly heartbeats: number;
  readonly running: boolean;
  rssMb(): number;
  pids(): number[];
}

export interface WorkerNeed {
  memoryMb: number;
  /** Undefined where GPU memory cannot be read per process. */
  gpuMb?: number;
}

/** Probing a worker by default ends at its second heartbeat, and never takes longer than this. */
export const PROBE_LIMIT_MS = 120_000;
const POLL_MS = 100;
const GPU_POLL_MS = 1000;

/**
 * Watches a worker's process group until its second heartbeat (or for `probeForMs` when set), and returns
 * the peak of its RSS and of its GPU memory: what each further worker is expected to need.
 */
export async function probeWorker(
  worker: RampWorker,
  capacity: RunCapacity,
  probeForMs: number | undefined,
  signal: AbortSignal,
): Promise<WorkerNeed> {
  const deadline = Date.now() + (probeForMs ?? PROBE_LIMIT_MS);
  const need: WorkerNeed = { memoryMb: 0 };
  let gpuReadAt = 0;
  const done = () =>
    signal.aborted || !worker.running || Date.now() >= deadline || (probeForMs === undefined && worker.heartbeats >= 2);
  // A worker still starting up has no process group yet: wait for it rather than read 0.
  while (!signal.aborted && worker.pids().length === 0 && Date.now() < deadline) await Bun.sleep(10);
  do {
    need.memoryMb = Math.max(need.memoryMb, worker.rssMb());
    if (Date.now() - gpuReadAt >= GPU_POLL_MS) {
      gpuReadAt = Date.now();
      const gpu = await capacity.gpuMemory(worker.pids());
      if (gpu) need.gpuMb = Math.max(need.gpuMb ?? 0, gpu.processesMb);
    }
    await Bun.sleep(POLL_MS);
  } while (!done());
  return need;
}

/** Waits until a worker just started has beaten once (it has allocated what it needs), ended, or run out of time. */
export async function settled(worker: RampWorker, probeForMs: number | undefined, signal: AbortSignal): Promise<void> {
  const deadline = Date.now() + (probeForMs ?? PROBE_LIMIT_MS);
  while (!signal.aborted && worker.running && worker.heartbeats < 1 && Date.now() < deadline) await Bun.sleep(POLL_MS);
}

/**
 * Whether one more worker fits next to the ones running, and if not, which limit it would pass. Workers
 * that have not yet reached the need are counted at it: memory they are still about to take.
 */
export async function roomForOneMore(
  need: WorkerNeed,
  running: RampWorker[],
  capacity: RunCapacity,
  memoryLimitMb: number | undefined,
): Promise<{ fits: boolean; why?: string; availableMb: number }> {
  const availableMb = capacity.availableMemoryMb();
  const promised = running.reduce((sum, worker) => sum + Math.max(0, need.memoryMb - worker.rssMb()), 0);
  const count = running.length + 1;
  if (memoryLimitMb !== undefined && need.memoryMb * count > memoryLimitMb) {
    return {
      fits: false,
      availableMb,
      why: `${ordinal(count)} would pass governor.memory_limit_mb ${size(memoryLimitMb)} for the run`,
    };
  }
  if (availableMb - promised - need.memoryMb < capacity.memoryReserveMb) {
    return {
      fits: false,
      availableMb,
      why: `${ordinal(count)} would leave less than governor.memory_reserve_mb ${size(capacity.memoryReserveMb)} free`,
    };
  }
  if (need.gpuMb) {
    const gpu = await capacity.gpuMemory(running.flatMap((worker) => worker.pids()));
    if (gpu && gpu.usedMb + need.gpuMb > capacity.gpuMemoryFraction * gpu.totalMb) {
      return {
        fits: false,
        availableMb,
        why:
          `${ordinal(count)} would pass gpu_memory_fraction ${capacity.gpuMemoryFraction} of ${size(gpu.totalMb)} ` +
          `GPU memory`,
      };
    }
  }
  return { fits: true, availableMb };
}

/** `started 2 of 4 workers: each needs ~2.1 GB, 4.6 GB free; a 3rd would pass …`. */
export function rampDecision(
  started: number,
  workers: number,
  need: WorkerNeed,
  availableMb: number,
  why?: string,
): string {
  const gpu = need.gpuMb ? ` and ~${size(need.gpuMb)} of GPU memory` : "";
  return (
    `started ${started} of ${workers} workers: each needs ~${size(need.memoryMb)}${gpu}, ${size(availableMb)} ` +
    `free${started < workers && why ? `; a ${why}` : ""}`
  );
}

export function size(mb: number): string {
  if (!Number.isFinite(mb)) return "unknown";
  return mb >= 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${Math.round(mb)} MB`;
}

function ordinal(n: number): string {
  const suffix =
    n % 100 >= 11 && n % 100 <= 13 ? "th" : (({ 1: "st", 2: "nd", 3: "rd" } as Record<number, string>)[n % 10] ?? "th");
  return `${n}${suffix}`;
}
