import { readFileSync, statfsSync } from "node:fs";
import { join } from "node:path";
import { gpuLoadNodes, thermalZones } from "../hardware/sensors.ts";
import type { Readings } from "../plugin-api.ts";
import type { GpuReading } from "./gpu-readers.ts";

/**
 * A reading with what the governor decides on: the system's load without edgetrain's own runs. A figure
 * that cannot be read (/proc/stat or /proc/meminfo missing or garbled) is undefined: unknown, never 0.
 */
export interface Sample extends Readings {
  /** All CPU in use, percent of all cores. */
  totalCpuPercent?: number;
  /** CPU used by edgetrain and its runs (workers, trainer process groups), percent of all cores. */
  ownCpuPercent?: number;
  load1: number;
  /** Share of the home's filesystem in use, percent (undefined without a home to watch). */
  diskPercent?: number;
  /** Hottest thermal zone, °C. */
  temperatureC?: number;
  /** A GPU reader exists (load node, nvidia-smi, tegrastats) but gave no load reading: unknown, not idle. */
  gpuUnreadable?: boolean;
  /** Predictions this daemon answered per second since the previous sample (set by the daemon, not read from /proc). */
  predictionsPerSecond?: number;
}

interface CpuTimes {
  total: number;
  idle: number;
}

/**
 * Reads /proc and /sys directly (no process spawned per sample): /proc/stat for CPU, /proc/meminfo for
 * memory, /proc/loadavg, thermal zones and the Jetson GPU load node. `root` is `/` on a machine and a
 * recorded tree in tests. `ownPids` lists edgetrain's processes whose CPU is not "the system being busy".
 */
export class ResourceSampler {
  private previousCpu?: CpuTimes;
  private previousOwn = new Map<number, number>();
  private readonly gpuNode: string | undefined;

  constructor(
    private readonly root = "/",
    private readonly ownPids: () => number[] = () => [process.pid],
    private readonly now: () => number = Date.now,
    /** A long-lived nvidia-smi or tegrastats reporter, where no sysfs GPU load node exists. */
    private readonly gpuReporter?: { reading(): GpuReading },
    /** The folder whose filesystem fills up with models and runs: the home. */
    private readonly diskPath?: string,
  ) {
    this.gpuNode = gpuLoadNodes(root)[0];
  }

  sample(): Sample {
    const cpu = this.cpuSincePrevious();
    const memory = this.readMemoryPercent();
    const reported = this.gpuReporter?.reading() ?? {};
    const temperatures = [...thermalZones(this.root).map((zone) => zone.celsius), reported.temperatureC].filter(
      (c): c is number => c !== undefined && c > -50,
    );
    // Jetson's node reports per mille.
    const gpu = this.gpuNode ? Number(this.read(this.gpuNode)?.trim()) / 10 : reported.gpuPercent;
    const gpuPercent = gpu !== undefined && Number.isFinite(gpu) ? gpu : undefined;
    return {
      at: this.now(),
      ...cpu,
      memoryPercent: memory,
      load1: Number(this.read("/proc/loadavg")?.split(" ")[0] ?? 0),
      diskPercent: this.diskPercent(),
      temperatureC: temperatures.length ? Math.max(...temperatures) : undefined,
      gpuPercent,
      gpuMemoryUsedMb: reported.memoryUsedMb,
      gpuMemoryTotalMb: reported.memoryTotalMb,
      ...(gpuPercent === undefined && (this.gpuNode || this.gpuReporter) ? { gpuUnreadable: true } : {}),
    };
  }

  /** statfs(2): a system call, no process; used share of the filesystem as `df` counts it. */
  private diskPercent(): number | undefined {
    if (!this.diskPath) return undefined;
    try {
      const stats = statfsSync(this.diskPath);
      const used = stats.blocks - stats.bfree;
      return used + stats.bavail > 0 ? clampPercent((used / (used + stats.bavail)) * 100) : undefined;
    } catch {
      return undefined;
    }
  }

  private read(path: string): string | undefined {
    try {
      return readFileSync(join(this.root, path), "utf8");
    } catch {
      return undefined;
    }
  }

  /**
   * CPU in use since the previous sample: all of it, edgetrain's, and the others' (what the governor decides
   * on). Unknown (no fields) while /proc/stat cannot be read, and at the first reading after it could not.
   */
  private cpuSincePrevious(): Pick<Sample, "cpuPercent" | "totalCpuPercent" | "ownCpuPercent"> {
    const cpu = this.readCpu();
    const previous = this.previousCpu;
    this.previousCpu = cpu;
    const ownTicks = this.ownTicksSincePrevious();
    if (!cpu || !previous) return {};
    const elapsedTicks = cpu.total - previous.total;
    const busyTicks = elapsedTicks - (cpu.idle - previous.idle);
    const totalCpuPercent = elapsedTicks > 0 ? clampPercent((busyTicks / elapsedTicks) * 100) : 0;
    const ownCpuPercent = elapsedTicks > 0 ? clampPercent((ownTicks / elapsedTicks) * 100) : 0;
    return { cpuPercent: clampPercent(totalCpuPercent - ownCpuPercent), totalCpuPercent, ownCpuPercent };
  }

  /** The aggregate `cpu` line: user nice system idle iowait irq softirq steal (guest time is inside user). */
  private readCpu(): CpuTimes | undefined {
    const line = this.read("/proc/stat")
      ?.split("\n")
      .find((l) => l.startsWith("cpu "));
    const fields = line?.trim().split(/\s+/).slice(1, 9).map(Number) ?? [];
    if (fields.length < 4 || !fields.every(Number.isFinite)) return undefined;
    const total = fields.reduce((sum, value) => sum + value, 0);
    return { total, idle: fields[3]! + (fields[4] ?? 0) };
  }

  private readMemoryPercent(): number | undefined {
    const text = this.read("/proc/meminfo") ?? "";
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? NaN);
    const total = field("MemTotal");
    let available = field("MemAvailable");
    // Kernels before 3.14 have no MemAvailable.
    if (!Number.isFinite(available)) available = field("MemFree") + field("Buffers") + field("Cached");
    return total > 0 && Number.isFinite(available) ? clampPercent(((total - available) / total) * 100) : undefined;
  }

  /**
   * CPU ticks of edgetrain's processes since the last sample. /proc/stat counts ticks of all cores in
   * clock ticks (USER_HZ); per-process utime+stime are in the same unit.
   */
  private ownTicksSincePrevious(): number {
    const current = new Map<number, number>();
    let ticks = 0;
    for (const pid of this.ownPids()) {
      const stat = this.read(`/proc/${pid}/stat`);
      if (!stat) continue;
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      // utime, stime, cutime, cstime: children that exited count towards their parent.
      const used = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
      current.set(pid, used);
      const before = this.previousOwn.get(pid);
      if (before !== undefined) ticks += Math.max(0, used - before);
    }
    this.previousOwn = current;
    return ticks;
  }
}

function clampPercent(value: number): number {
  return Math.min(100, Math.max(0, value));
}
