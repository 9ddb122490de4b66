import { memoryInfo } from "../hardware/sensors.ts";
import type { Logger } from "../plugin-api.ts";

/**
 * Warns when governor.memory_reserve_mb asks to keep free all of this machine's memory or more: a probed run
 * then never starts a second worker. Not a profile error: a profile moves between devices, and only the
 * machine it runs on knows its memory.
 */
export function warnOfMemoryReserve(reserveMb: number, hostRoot: string, logger: Logger): void {
  const machineMb = memoryInfo(hostRoot)?.totalMb;
  if (machineMb === undefined || !Number.isFinite(machineMb) || reserveMb < machineMb) return;
  logger.warn(
    `governor.memory_reserve_mb ${reserveMb} MB is not below this machine's memory, ${machineMb} MB: a probed ` +
      "run never starts more than one worker",
    { memory_reserve_mb: reserveMb, machine_memory_mb: machineMb },
  );
}
