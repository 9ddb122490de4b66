import * as v from "valibot";
import { Duration } from "./duration.ts";
import { positiveInt } from "./numeric-fields.ts";

const doc = v.description;

/** The profile's `inference:` section (part of runtime/config/schema.ts): ONNX Runtime sessions kept loaded. */
export const Inference = v.strictObject({
  backend: v.optional(
    v.pipe(
      v.picklist(["auto", "native", "wasm"]),
      doc("ONNX Runtime backend: auto picks WebAssembly where glibc < 2.28."),
    ),
    "auto",
  ),
  memory_budget_mb: v.optional(
    positiveInt(
      "Estimated memory of the model sessions kept loaded (an ONNX Runtime session 9 times its model file plus 320 " +
        "KB, at least what ONNX Runtime takes: a demo forest of 40 trees about 2 MB; a built-in tree ensemble its " +
        "arrays plus its file and 128 KB: the demo forest about 0.5 MB). Once it is full, a new session is kept " +
        "only in place of least recently used ones asked for less often; a model not kept loads a session for the " +
        "requests that arrive while it is loaded.",
    ),
    512,
  ),
  max_loaded: v.optional(
    positiveInt("A cap on the count of sessions kept loaded, besides memory_budget_mb; none when left out."),
  ),
  min_residence: v.optional(
    v.pipe(
      Duration,
      doc(
        "A session kept is not unloaded to make room for another for this long after it was loaded, however rarely " +
          "it is asked for.",
      ),
    ),
    "10s",
  ),
  threads: v.optional(
    positiveInt(
      "Intra-op threads per session. 1: a session computes on the thread that asks, which is fastest for single rows " +
        "and cheapest to unload; more only speed up large batches.",
    ),
    1,
  ),
  tree_ensembles: v.optional(
    v.pipe(
      v.picklist(["builtin", "onnxruntime"]),
      doc(
        "Who runs a model whose graph is only a tree ensemble (edgetrain's forests, scikit-learn's imported): " +
          "builtin walks its trees in flat arrays about the size of the model file, with the same answers as ONNX " +
          "Runtime (one intra-op thread), whose session takes about 9 times the file; onnxruntime loads it in ONNX " +
          "Runtime like any model.",
      ),
    ),
    "builtin",
  ),
  max_batch_rows: v.optional(
    positiveInt(
      "Predictions asked of one model in the same turn of the event loop run as one ONNX Runtime call of up to this " +
        "many rows: fewer calls under load. 1: each request alone.",
    ),
    64,
  ),
});
