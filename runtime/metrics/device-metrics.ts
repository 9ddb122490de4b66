import { Gauge, type Registry } from "prom-client";
import type { DaemonStatus } from "../api/daemon-view.ts";
import type { DiskUsage } from "../files/disk-usage.ts";
import { optionalGauge } from "./optional-gauge.ts";

type Read = () => number | undefined;

/**
 * The machine as the governor last sampled it, the home's disk and the governor's state. Readings are
 * absent until the first sample, and a sensor the machine lacks (temperature, GPU) never has a sample.
 */
export function registerDeviceMetrics(
  registry: Registry,
  status: () => DaemonStatus,
  disk: () => DiskUsage | undefined,
): void {
  const reading =
    (name: string): Read =>
    () => {
      const value = status().governor.readings?.[name];
      return typeof value === "number" ? value : undefined;
    };
  const ratio =
    (name: string): Read =>
    () => {
      const value = reading(name)();
      return value === undefined ? undefined : value / 100;
    };
  const guard = () => status().governor.latency_guard;
  const seconds = (ms: number | null) => (ms === null ? undefined : ms / 1000);
  const maxTemperature: Read = () => {
    const limit = status().governor.limits.max_temperature;
    return typeof limit === "number" ? limit : undefined;
  };
  const optional: Array<[string, string, Read]> = [
    ["edgetrain_system_cpu_ratio", "CPU in use (0-1), edgetrain's own runs excluded.", ratio("cpuPercent")],
    ["edgetrain_own_cpu_ratio", "CPU used by edgetrain's own runs (0-1).", ratio("ownCpuPercent")],
    ["edgetrain_memory_used_ratio", "Memory in use (0-1).", ratio("memoryPercent")],
    ["edgetrain_gpu_utilization_ratio", "GPU load (0-1); absent without a GPU reading.", ratio("gpuPercent")],
    ["edgetrain_temperature_celsius", "Hottest thermal zone; absent without one.", reading("temperatureC")],
    ["edgetrain_load1", "Load average over one minute.", reading("load1")],
    ["edgetrain_governor_max_temperature_celsius", "governor.max_temperature: above it runs pause.", maxTemperature],
    [
      "edgetrain_serving_delay_p99_seconds",
      "p99 of how long the serving thread was kept from its work (timer lateness or wait for a CPU) over the " +
        "latency guard's latest window; absent without answers.",
      () => seconds(guard().p99_ms),
    ],
    [
      "edgetrain_latency_guard_target_seconds",
      "What the latency guard holds a window's p99 to while runs train; absent before the idle p99 is known.",
      () => seconds(guard().target_ms),
    ],
    [
      "edgetrain_latency_guard_threads_per_run",
      "Threads each run may train on while the latency guard holds some back (0: runs paused); absent without a hold.",
      () => guard().threads_per_run ?? undefined,
    ],
    [
      "edgetrain_latency_guard_duty_ratio",
      "Share of the time a run on one thread trains while the latency guard holds it to part of it; absent otherwise.",
      () => guard().duty ?? undefined,
    ],
    [
      "edgetrain_home_disk_free_bytes",
      "Free space on the disk of the home, to the daemon's user.",
      () => disk()?.freeBytes,
    ],
    ["edgetrain_home_disk_used_bytes", "Space used on the disk of the home, as df counts it.", () => disk()?.usedBytes],
    ["edgetrain_home_disk_size_bytes", "Size of the disk of the home.", () => disk()?.sizeBytes],
  ];
  for (const [name, help, read] of optional) optionalGauge(registry, name, help, read);

  const always: Array<[string, string, (s: DaemonStatus) => number | boolean]> = [
    ["edgetrain_governor_paused", "1 while the governor holds runs paused.", (s) => s.governor.paused],
    ["edgetrain_governor_sparing_core", "1 while runs leave a core to predictions.", (s) => s.governor.sparing_core],
    [
      "edgetrain_governor_latency_throttled",
      "1 while the latency guard holds training threads back.",
      (s) => s.governor.latency_guard.threads_per_run !== null,
    ],
    ["edgetrain_home_disk_full", "1 while the disk of the home is full: no run starts.", (s) => s.disk.full],
    ["edgetrain_queue_length", "Job+key entries waiting to run.", (s) => s.queue.length],
    ["edgetrain_runs_running", "Training runs in progress.", (s) => s.running],
    [
      "edgetrain_runs_stalled",
      "Runs in progress whose trainer has gone silent past its stall limit.",
      (s) => s.runs.filter((run) => run.status === "stalled").length,
    ],
  ];
  for (const [name, help, pick] of always) {
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(Number(pick(status())));
      },
    });
  }
}
