import type { RunCapacity } from "../../../runtime/plugin-api.ts";
import { type RampWorker, size } from "./ramp.ts";

export interface WatchedWorker extends RampWorker {
  readonly id: number;
}

export interface MemoryWatchActions {
  /** Stop (true) or continue (false) a worker: SIGSTOP, SIGCONT. */
  hold(worker: WatchedWorker, held: boolean): void;
  /** A worker held longer than max_pause: it ends, and the run goes on without it. */
  drop(worker: WatchedWorker): void;
  decided(decision: string, worker: WatchedWorker): void;
}

const WATCH_MS = 1000;

/**
 * While a run's workers train: when the run passes governor.memory_limit_mb or free memory falls under
 * memory_reserve_mb, the newest worker is stopped (the first is never: its own limit check ends it), one
 * per look. A stopped worker continues once there is room again, and is dropped past max_pause: stopping
 * keeps it from taking more, but only ending it gives its memory back.
 */
export function watchMemory(
  workers: () => WatchedWorker[],
  capacity: RunCapacity,
  memoryLimitMb: number | undefined,
  actions: MemoryWatchActions,
): () => void {
  const held = new Map<WatchedWorker, number>();
  const timer = setInterval(() => {
    const live = workers().filter((worker) => worker.running);
    const totalMb = live.reduce((sum, worker) => sum + worker.rssMb(), 0);
    const availableMb = capacity.availableMemoryMb();
    const overLimit = memoryLimitMb !== undefined && totalMb > memoryLimitMb;
    const short = availableMb < capacity.memoryReserveMb;
    for (const [worker, since] of held) {
      if (!worker.running) held.delete(worker);
      else if (Date.now() - since > capacity.maxPauseMs) {
        held.delete(worker);
        actions.decided(`cancelled worker ${worker.id}: stopped for memory longer than governor.max_pause`, worker);
        actions.drop(worker);
      }
    }
    if (overLimit || short) {
      const newest = live.filter((worker) => worker.id !== 0 && !held.has(worker)).at(-1);
      if (!newest) return;
      held.set(newest, Date.now());
      actions.hold(newest, true);
      const why = overLimit
        ? `the run uses ${size(totalMb)}, over governor.memory_limit_mb ${size(memoryLimitMb!)}`
        : `${size(availableMb)} free, under governor.memory_reserve_mb ${size(capacity.memoryReserveMb)}`;
      actions.decided(`stopped worker ${newest.id}: ${why}`, newest);
      return;
    }
    // Room again, with a margin so that a worker is not stopped and continued on every look.
    const oldest = [...held.keys()][0];
    if (
      oldest &&
      availableMb > capacity.memoryReserveMb * 1.25 &&
      (memoryLimitMb === undefined || totalMb < memoryLimitMb * 0.9)
    ) {
      held.delete(oldest);
      actions.hold(oldest, false);
      actions.decided(`continued worker ${oldest.id}: ${size(availableMb)} free`, oldest);
    }
  }, WATCH_MS);
  return () => clearInterval(timer);
}
