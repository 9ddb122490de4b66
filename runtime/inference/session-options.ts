import type * as Ort from "onnxruntime-common";

/**
 * Options of every session edgetrain creates, for `threads` intra-op threads (`inference.threads`).
 *
 * With one thread, the default, a session computes on the thread that calls it and owns no pool of threads:
 * single rows run fastest, and releasing the session is quick, where joining a pool of its own took up to
 * 30 ms of the serving thread at each unload. With more, the pool's threads sleep between calls instead of
 * spinning, so that an idle session takes no core from training.
 *
 * No memory arena and no memory patterns: with them each session keeps, for as long as it is loaded, the
 * buffers of the largest batch it ever ran, and the pool keeps many sessions loaded; the buffers of a tree
 * ensemble's call are small enough that allocating them per call costs nothing measurable.
 */
export function sessionOptions(threads: number): Ort.InferenceSession.SessionOptions {
  const memory = { enableCpuMemArena: false, enableMemPattern: false };
  if (threads <= 1) return { ...memory, intraOpNumThreads: 1 };
  return { ...memory, intraOpNumThreads: threads, extra: { session: { intra_op: { allow_spinning: "0" } } } };
}
