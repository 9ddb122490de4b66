import { messageOf } from "../errors.ts";
import { lineSplitterFor } from "../os/lines.ts";
import type { Clock, Logger } from "../plugin-api.ts";

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
 * A reading that missed three of its reader's intervals is no longer the GPU's (a reader that hangs in the
 * driver prints nothing and does not exit). Two seconds at least: at short intervals one line a loaded
 * machine delays must not flip the GPU to unknown.
 */
const STALE_AFTER_INTERVALS = 3;
const STALE_AFTER_MIN_MS = 2000;

/** A reporter that stopped starts again after 1 s, then 2, 4 … up to a minute while it keeps stopping. */
const RESTART_FIRST_MS = 1000;
const RESTART_MAX_MS = 60_000;

export interface GpuReporterOptions {
  kind: "nvidia-smi" | "tegrastats";
  /** The reader's path, found on the search PATH. */
  command: string;
  intervalMs: number;
  clock: Clock;
  logger: Logger;
}

/**
 * Keeps one long-lived reporter process (`nvidia-smi … -lms N` or `tegrastats --interval N`) and its latest
 * reading, rather than spawning a process per sample. When the process ends its reading ends with it (the
 * GPU is unknown, not as it last was) and it is started again, later each time while it keeps stopping.
 */
export class GpuReporter {
  private readonly perGpu = new Map<number, { reading: GpuReading; at: number }>();
  private process?: ReturnType<typeof Bun.spawn>;
  private restartDelayMs = RESTART_FIRST_MS;
  private restartTimer?: unknown;
  private stopped = true;
  /** The stop was logged and nothing read since: each change is logged once, not every attempt. */
  private down = false;
  /** When (clock time) the stopped reporter starts again; undefined while one runs. */
  nextStartAt?: number;

  constructor(private readonly options: GpuReporterOptions) {}

  start(): void {
    this.stopped = false;
    this.spawn();
  }

  private spawn(): void {
    const { kind, command, intervalMs, clock } = this.options;
    this.nextStartAt = undefined;
    const startedAt = clock.now();
    const args =
      kind === "nvidia-smi"
        ? [command, `--query-gpu=${NVIDIA_SMI_QUERY}`, "--format=csv,noheader,nounits", "-lms", String(intervalMs)]
        : [command, "--interval", String(intervalMs)];
    let child: ReturnType<typeof Bun.spawn>;
    try {
      child = Bun.spawn(args, { stdout: "pipe", stderr: "pipe" });
    } catch (error) {
      this.ended(`could not start: ${messageOf(error)}`, startedAt, { error: messageOf(error) });
      return;
    }
    this.process = child;
    let said = "";
    const stderr = lineSplitterFor(child.stderr as ReadableStream<Uint8Array>, (line) => {
      if (line.trim()) said = line.trim().slice(0, 200);
    });
    void lineSplitterFor(child.stdout as ReadableStream<Uint8Array>, (line) => {
      if (this.process === child) this.take(line);
    });
    // Its last words on stderr say why (the driver, a missing library): wait for them before logging.
    void Promise.all([child.exited, stderr.catch(() => {})]).then(() => {
      if (this.process !== child) return;
      this.process = undefined;
      const exit = child.signalCode ? { signal: child.signalCode } : { exit_code: child.exitCode };
      const how = child.signalCode ? `killed by ${child.signalCode}` : `exit code ${child.exitCode}`;
      this.ended(said ? `${how}: ${said}` : how, startedAt, exit);
    });
  }

  private take(line: string): void {
    const at = this.options.clock.now();
    if (this.options.kind === "tegrastats") this.perGpu.set(0, { reading: parseTegrastats(line), at });
    else {
      const reading = parseNvidiaSmi(line);
      if (!reading) return;
      this.perGpu.set(reading.index, { reading, at });
    }
    if (this.down) {
      this.down = false;
      this.options.logger.info(`GPU reader ${this.options.kind} reads the GPU again`, { reader: this.options.kind });
    }
  }

  private ended(why: string, startedAt: number, fields: Record<string, unknown>): void {
    this.perGpu.clear();
    if (this.stopped) return;
    const { clock, logger, kind, command } = this.options;
    // One that ran a good while before it stopped starts again soon; one that keeps stopping waits longer.
    if (clock.now() - startedAt >= RESTART_MAX_MS) this.restartDelayMs = RESTART_FIRST_MS;
    const delay = this.restartDelayMs;
    this.restartDelayMs = Math.min(delay * 2, RESTART_MAX_MS);
    if (!this.down) {
      this.down = true;
      logger.warn(
        `GPU reader ${kind} stopped (${why}): the GPU is unknown until it reads again; starting it again in ` +
          `${delay / 1000} s, then up to every ${RESTART_MAX_MS / 1000} s while it keeps stopping`,
        { reader: kind, command, ...fields },
      );
    }
    this.nextStartAt = clock.now() + delay;
    this.restartTimer = clock.setTimeout(() => this.spawn(), delay);
  }

  reading(): GpuReading {
    const { clock, intervalMs } = this.options;
    const staleAfter = Math.max(STALE_AFTER_INTERVALS * intervalMs, STALE_AFTER_MIN_MS);
    const gpus = [...this.perGpu.values()];
    const fresh = gpus.filter((gpu) => clock.now() - gpu.at <= staleAfter).map((gpu) => gpu.reading);
    if (!fresh.length) return {};
    // A GPU whose lines stopped coming is unknown, like one that answers [N/A].
    return busiestGpu(fresh.length === gpus.length ? fresh : [...fresh, {}]);
  }

  get pid(): number | undefined {
    return this.process?.pid;
  }

  stop(): void {
    this.stopped = true;
    if (this.restartTimer !== undefined) this.options.clock.clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    this.nextStartAt = undefined;
    this.process?.kill();
    this.process = undefined;
    this.perGpu.clear();
  }
}
