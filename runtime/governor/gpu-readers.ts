import { lineSplitterFor } from "../os/lines.ts";

export interface GpuReading {
  gpuPercent?: number;
  /** Hottest sensor, °C. */
  temperatureC?: number;
  memoryUsedMb?: number;
  memoryTotalMb?: number;
}

/**
 * One `tegrastats` line (Jetson, when the GPU load node cannot be read):
 * `RAM 1523/3964MB … CPU [12%@1479,…] EMC_FREQ 0% GR3D_FREQ 45%@921 PLL@28C CPU@30.5C PMIC@100C GPU@29C …`
 * PMIC reports a fixed 100 °C on many boards and Orin's CV engines report -256 °C when off: both are ignored.
 */
export function parseTegrastats(line: string): GpuReading {
  const gpu = /GR3D_FREQ (\d+)%/.exec(line);
  const ram = /RAM (\d+)\/(\d+)MB/.exec(line);
  const temperatures = [...line.matchAll(/\b([A-Za-z0-9_]+)@(-?\d+(?:\.\d+)?)C\b/g)]
    .filter(([, sensor, value]) => sensor !== "PMIC" && Number(value) > -50)
    .map(([, , value]) => Number(value));
  return {
    gpuPercent: gpu ? Number(gpu[1]) : undefined,
    temperatureC: temperatures.length ? Math.max(...temperatures) : undefined,
    memoryUsedMb: ram ? Number(ram[1]) : undefined,
    memoryTotalMb: ram ? Number(ram[2]) : undefined,
  };
}

export const NVIDIA_SMI_QUERY = "index,utilization.gpu,temperature.gpu,memory.used,memory.total";

/**
 * One line of `nvidia-smi --query-gpu=index,utilization.gpu,temperature.gpu,memory.used,memory.total
 * --format=csv,noheader,nounits`. A field the driver cannot give (`[N/A]`, `[Not Supported]`, empty) is
 * unknown on its own: the others still count. A line without a GPU index is not a reading at all.
 */
export function parseNvidiaSmi(line: string): (GpuReading & { index: number }) | undefined {
  const fields = line.split(",").map((field) => field.trim());
  if (fields.length < 5 || !/^\d+$/.test(fields[0]!)) return undefined;
  return {
    index: Number(fields[0]),
    gpuPercent: numberIn(fields[1]!),
    temperatureC: numberIn(fields[2]!),
    memoryUsedMb: numberIn(fields[3]!),
    memoryTotalMb: numberIn(fields[4]!),
  };
}

function numberIn(field: string): number | undefined {
  const value = Number(field);
  return field !== "" && Number.isFinite(value) ? value : undefined;
}

/**
 * With several GPUs the busiest counts: the highest load and the fullest memory. A GPU whose load or memory
 * cannot be read leaves that figure unknown rather than the others' (it may be the busiest); temperatures
 * count where they are known, like thermal zones.
 */
export function busiestGpu(gpus: GpuReading[]): GpuReading {
  const loads = gpus.map((gpu) => gpu.gpuPercent);
  const memoryKnown = gpus.every((gpu) => gpu.memoryUsedMb !== undefined && gpu.memoryTotalMb);
  const fullest = memoryKnown
    ? gpus.reduce((a, b) => (b.memoryUsedMb! / b.memoryTotalMb! > a.memoryUsedMb! / a.memoryTotalMb! ? b : a))
    : {};
  const temperatures = gpus.map((gpu) => gpu.temperatureC).filter((c) => c !== undefined);
  return {
    gpuPercent: loads.every((load) => load !== undefined) ? Math.max(...loads) : undefined,
    memoryUsedMb: fullest.memoryUsedMb,
    memoryTotalMb: fullest.memoryTotalMb,
    temperatureC: temperatures.length ? Math.max(...temperatures) : undefined,
  };
}

/**
 * Keeps one long-lived reporter process (`nvidia-smi … -lms N` or `tegrastats --interval N`) and its latest
 * reading, rather than spawning a process per sample.
 */
export class GpuReporter {
  private latest: GpuReading = {};
  private readonly perGpu = new Map<number, GpuReading>();
  private process?: ReturnType<typeof Bun.spawn>;

  constructor(
    private readonly kind: "nvidia-smi" | "tegrastats",
    private readonly command: string,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    const args =
      this.kind === "nvidia-smi"
        ? [
            this.command,
            `--query-gpu=${NVIDIA_SMI_QUERY}`,
            "--format=csv,noheader,nounits",
            `-lms`,
            String(this.intervalMs),
          ]
        : [this.command, "--interval", String(this.intervalMs)];
    this.process = Bun.spawn(args, { stdout: "pipe", stderr: "ignore" });
    void lineSplitterFor(this.process.stdout as ReadableStream<Uint8Array>, (line) => {
      if (this.kind === "tegrastats") {
        this.latest = parseTegrastats(line);
        return;
      }
      const reading = parseNvidiaSmi(line);
      if (!reading) return;
      this.perGpu.set(reading.index, reading);
      this.latest = busiestGpu([...this.perGpu.values()]);
    });
  }

  reading(): GpuReading {
    return this.latest;
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  stop(): void {
    this.process?.kill();
  }
}
