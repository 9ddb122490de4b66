import { FFIType, ptr } from "bun:ffi";
import { withLibc } from "./libc.ts";

const PRIO_PROCESS = 0;
const SCHED_IDLE = 5;

export type TrainingClass = "idle" | "normal";

/** `governor.training_class` and `training_nice`: what a run's threads, and a deploy's scoring, run at. */
export function trainingPriority(governor: { training_class: TrainingClass; training_nice: number }): {
  class: TrainingClass;
  nice: number;
} {
  return { class: governor.training_class, nice: governor.training_nice };
}

/** What a run's thread got: the idle class, a nice value, or its normal priority where libc could not be asked. */
export type Lowered = { class: "idle" } | { class: "normal"; nice: number } | { class: "unchanged" };

/**
 * Lowers the calling thread's priority so that a training run yields the CPU to the thread that answers
 * predictions. On Linux both belong to each thread (`0` is the calling thread, not the process), and
 * threads and processes started afterwards — a forest's tree workers, a command's trainer — inherit them.
 *
 * The idle class (SCHED_IDLE) runs a thread only on a core no other thread wants: a request that wakes
 * the serving thread takes the core at once, where a nice value only shrinks the training's share. The
 * nice value is set first, so a kernel without SCHED_IDLE still gets it.
 */
export function lowerThisThread(wanted: TrainingClass, nice: number): Lowered {
  const symbols = {
    setpriority: { args: [FFIType.i32, FFIType.u32, FFIType.i32], returns: FFIType.i32 },
    sched_setscheduler: { args: [FFIType.i32, FFIType.i32, FFIType.ptr], returns: FFIType.i32 },
  } as const;
  return (
    withLibc(symbols, (libc): Lowered => {
      const niced = nice === 0 || libc.setpriority(PRIO_PROCESS, 0, nice) === 0;
      // struct sched_param { int sched_priority; }, which must be 0 outside the real-time classes.
      if (wanted === "idle" && libc.sched_setscheduler(0, SCHED_IDLE, ptr(new Int32Array(1))) === 0)
        return { class: "idle" };
      return niced ? { class: "normal", nice } : { class: "unchanged" };
    }) ?? { class: "unchanged" }
  );
}
