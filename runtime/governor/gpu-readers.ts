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
 * --format=csv,noheader,nounits`.
 */
export function parseNvidiaSmi(line: string): (GpuReading & { index: number }) | undefined {
  const fields = line.split(",").map((field) => Number(field.trim()));
  if (fields.length < 5 || fields.some((value) => !Number.isFinite(value))) return undefined;
  return {
    index: fields[0]!,
    gpuPercent: fields[1],
    temperatureC: fields[2],
    memoryUsedMb: fields[3],
    memoryTotalMb: fields[4],
  };
}

/**
 * Keeps one long-lived reporter process (`nvidia-smi … -lms N` or `tegrastats --interval N`) and its latest
 * reading, rather than spawning a process per sample. With several GPUs, the busiest one counts.
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
      const gpus = [...this.perGpu.values()];
      const busiest = gpus.reduce((a, b) => ((b.gpuPercent ?? 0) > (a.gpuPercent ?? 0) ? b : a));
      this.latest = {
        gpuPercent: busiest.gpuPercent,
        memoryUsedMb: busiest.memoryUsedMb,
        memoryTotalMb: busiest.memoryTotalMb,
        temperatureC: Math.max(...gpus.map((g) => g.temperatureC ?? -Infinity)),
      };
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
