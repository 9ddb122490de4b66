import { dlopen, FFIType } from "bun:ffi";

const PRIO_PROCESS = 0;

/**
 * Raises the calling thread's nice value, so that a training run yields the CPU to the thread that answers
 * predictions. On Linux the nice value belongs to each thread (`who` 0 is the calling thread, not the
 * process), and threads started afterwards — a forest's tree workers — inherit it. Returns false where
 * libc cannot be asked (musl, no FFI); the run then trains at normal priority.
 */
export function niceThisThread(nice: number): boolean {
  if (nice === 0) return true;
  try {
    const libc = dlopen("libc.so.6", { setpriority: { args: [FFIType.i32, FFIType.u32, FFIType.i32], returns: FFIType.i32 } });
    const done = libc.symbols.setpriority(PRIO_PROCESS, 0, nice) === 0;
    libc.close();
    return done;
  } catch {
    return false;
  }
}
