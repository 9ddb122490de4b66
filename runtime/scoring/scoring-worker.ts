/**
 * The scoring thread: predicts held-out rows with a model version loaded in a session of its own. Loading a
 * session blocks the thread that does it (3–6 ms for a demo forest, more for large ones) and a large
 * held-out set runs for longer still, so a gate's scoring happens here and not on the thread that answers
 * predictions. So does reading the feature names out of a model file for accuracy-below.
 */
import { readFileSync } from "node:fs";
import { messageOf } from "../errors.ts";
import { readModelDescription } from "../inference/model-metadata.ts";
import { loadOnnxRuntime } from "../inference/onnx-runtime.ts";
import { sessionOptions } from "../inference/session-options.ts";
import { lowerThisThread } from "../os/thread-priority.ts";
import { predictionsOf } from "./score-predictions.ts";
import type { ScoreReply, ScoreRequest, ScoringRequest } from "./scoring-protocol.ts";

declare const self: Worker;

/** Rows per ONNX Runtime call: bounds the memory of a large held-out set's outputs. */
const BATCH_ROWS = 4096;

let lowered = false;

self.onmessage = async (event: MessageEvent<ScoringRequest>) => {
  const request = event.data;
  if (!lowered) {
    lowered = true;
    lowerThisThread(request.runtime.priority.class, request.runtime.priority.nice);
  }
  let reply: ScoreReply;
  try {
    reply =
      request.kind === "describe"
        ? {
            id: request.id,
            ok: true,
            description: readModelDescription(readFileSync(request.path), request.path) ?? null,
          }
        : { id: request.id, ok: true, predicted: await predict(request) };
  } catch (error) {
    reply = { id: request.id, ok: false, message: messageOf(error) };
  }
  self.postMessage(reply);
};

async function predict({
  runtime: wanted,
  path,
  x,
  rows,
  width,
  classes,
}: ScoreRequest): Promise<Array<string | number | undefined>> {
  const runtime = await loadOnnxRuntime({ preference: wanted.preference, cacheDir: wanted.cacheDir });
  const session = await runtime.ort.InferenceSession.create(readFileSync(path), sessionOptions(wanted.threads));
  try {
    const inputName = session.inputNames[0] ?? "features";
    const predicted: Array<string | number | undefined> = [];
    for (let from = 0; from < rows; from += BATCH_ROWS) {
      const count = Math.min(BATCH_ROWS, rows - from);
      const outputs = await session.run({
        [inputName]: new runtime.ort.Tensor("float32", x.subarray(from * width, (from + count) * width), [
          count,
          width,
        ]),
      });
      predicted.push(...predictionsOf(outputs, classes, count));
    }
    return predicted;
  } finally {
    await session.release();
  }
}
