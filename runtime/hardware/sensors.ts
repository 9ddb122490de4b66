import { exists, list, readText } from "./host-files.ts";

export interface ThermalZone {
  path: string;
  type: string;
  celsius?: number;
}

/** GPU load nodes of Jetson boards, by generation (Nano/TX2: gpu.0; Xavier/Orin: the GA10B/GV11B platform devices). */
const JETSON_GPU_LOAD = [
  "sys/devices/gpu.0/load",
  "sys/devices/platform/gpu.0/load",
  "sys/devices/17000000.ga10b/load",
  "sys/devices/platform/17000000.ga10b/load",
  "sys/devices/17000000.gv11b/load",
  "sys/devices/platform/17000000.gv11b/load",
];

export function gpuLoadNodes(root: string): string[] {
  return JETSON_GPU_LOAD.filter((path) => exists(root, path)).map((path) => `/${path}`);
}

export function thermalZones(root: string): ThermalZone[] {
  return list(root, "sys/class/thermal")
    .filter((name) => name.startsWith("thermal_zone"))
    .map((name) => {
      const base = `sys/class/thermal/${name}`;
      const milli = Number(readText(root, `${base}/temp`)?.trim());
      return {
        path: `/${base}/temp`,
        type: readText(root, `${base}/type`)?.trim() ?? "unknown",
        celsius: Number.isFinite(milli) ? milli / 1000 : undefined,
      };
    });
}

/** Memory from /proc/meminfo in MiB. */
export function memoryInfo(root: string): { totalMb: number; availableMb: number } | undefined {
  const text = readText(root, "proc/meminfo");
  if (!text) return undefined;
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(text)?.[1] ?? NaN) / 1024;
  return { totalMb: Math.round(field("MemTotal")), availableMb: Math.round(field("MemAvailable")) };
}
