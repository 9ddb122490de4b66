import type * as Ort from "onnxruntime-common";

/**
 * Session options for `threads` intra-op threads (`inference.threads`). With one, the default, a session
 * computes on the thread that calls it and owns no pool of threads: single rows run fastest, and releasing
 * the session is quick, where joining a pool of its own took up to 30 ms of the serving thread at each
 * unload. With more, the pool's threads sleep between calls instead of spinning, so that an idle session
 * takes no core from training.
 */
export function sessionThreads(threads: number): Ort.InferenceSession.SessionOptions {
  if (threads <= 1) return { intraOpNumThreads: 1 };
  return { intraOpNumThreads: threads, extra: { session: { intra_op: { allow_spinning: "0" } } } };
}
