import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunCapacity } from "../plugin-api.ts";

export interface RunCapacitySettings {
  memoryReserveMb: number;
  gpuMemoryFraction: number;
  maxPauseMs: number;
  /** `/` on a machine, a recorded tree in tests. */
  hostRoot: string;
  /** PATH searched for nvidia-smi (Environment.searchPath). */
  toolPath?: string;
}

/** The host's readings behind a run's RunCapacity: /proc/meminfo, and nvidia-smi's per-process query. */
export function runCapacity(settings: RunCapacitySettings): RunCapacity {
  const nvidiaSmi = Bun.which("nvidia-smi", { PATH: settings.toolPath });
  return {
    memoryReserveMb: settings.memoryReserveMb,
    gpuMemoryFraction: settings.gpuMemoryFraction,
    maxPauseMs: settings.maxPauseMs,
    availableMemoryMb: () => availableMemoryMb(settings.hostRoot),
    gpuMemory: async (pids) => (nvidiaSmi ? nvidiaGpuMemory(nvidiaSmi, pids) : undefined),
  };
}

export function availableMemoryMb(hostRoot: string): number {
  let text = "";
  try {
    text = readFileSync(join(hostRoot, "proc/meminfo"), "utf8");
  } catch {
    return Infinity;
  }
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? NaN);
  let available = field("MemAvailable");
  // Kernels before 3.14 have no MemAvailable.
  if (!Number.isFinite(available)) available = field("MemFree") + field("Buffers") + field("Cached");
  return Number.isFinite(available) ? available / 1024 : Infinity;
}

/**
 * Two queries, spawned only while a run probes or watches its workers: the compute processes' memory
 * (`pid, used_memory`) and the busiest GPU's memory. A GPU answering [N/A] is unknown.
 */
async function nvidiaGpuMemory(
  command: string,
  pids: number[],
): Promise<{ processesMb: number; usedMb: number; totalMb: number } | undefined> {
  const query = async (args: string[]) => {
    const child = Bun.spawn([command, ...args, "--format=csv,noheader,nounits"], { stdout: "pipe", stderr: "ignore" });
    const text = await new Response(child.stdout).text();
    return (await child.exited) === 0
      ? text
          .split("\n")
          .filter((line) => line.trim())
          .map((line) => line.split(",").map((cell) => Number(cell.trim())))
      : [];
  };
  const [apps, gpus] = await Promise.all([
    query(["--query-compute-apps=pid,used_memory"]),
    query(["--query-gpu=memory.used,memory.total"]),
  ]);
  const readable = gpus.filter(([used, total]) => Number.isFinite(used) && Number.isFinite(total));
  if (readable.length === 0) return undefined;
  const wanted = new Set(pids);
  const processesMb = apps
    .filter(([pid, used]) => wanted.has(pid!) && Number.isFinite(used))
    .reduce((sum, [, used]) => sum + used!, 0);
  const fullest = readable.reduce((a, b) => (b[0]! / b[1]! > a[0]! / a[1]! ? b : a));
  return { processesMb, usedMb: fullest[0]!, totalMb: fullest[1]! };
}
