import { FFIType } from "bun:ffi";
import { withLibc } from "../hardware/libc.ts";

const PRIO_PROCESS = 0;

/**
 * Raises the calling thread's nice value, so that a training run yields the CPU to the thread that answers
 * predictions. On Linux the nice value belongs to each thread (`who` 0 is the calling thread, not the
 * process), and threads started afterwards — a forest's tree workers — inherit it. Returns false where
 * libc cannot be asked (musl, no FFI); the run then trains at normal priority.
 */
export function niceThisThread(nice: number): boolean {
  if (nice === 0) return true;
  return withLibc({ setpriority: { args: [FFIType.i32, FFIType.u32, FFIType.i32], returns: FFIType.i32 } }, (libc) => libc.setpriority(PRIO_PROCESS, 0, nice) === 0) ?? false;
}
