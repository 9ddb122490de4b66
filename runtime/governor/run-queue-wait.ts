import { readFileSync } from "node:fs";

/** The kernel's per-thread scheduling figures: time on a CPU, time waiting for one (ns), times scheduled. */
const OWN_THREAD = "/proc/thread-self/schedstat";

/**
 * How long, in ms, the calling thread has waited in all for a CPU once runnable (the kernel's run_delay):
 * undefined where the kernel does not say (no /proc, or built without scheduler statistics).
 */
export function runQueueWaitMs(file = OWN_THREAD): number | undefined {
  try {
    const waitedNs = Number(readFileSync(file, "latin1").split(" ")[1]);
    return Number.isFinite(waitedNs) ? waitedNs / 1e6 : undefined;
  } catch {
    return undefined;
  }
}
