import { MicroBatcher } from "./micro-batch.ts";
import type { ModelDescription } from "./model-metadata.ts";
import { type ModelSignature, tableWidth } from "./model-signature.ts";
import type { ServingSession, TensorBuilder } from "./serving-session.ts";
import {
  formatOutputs,
  type OutputTensor,
  outputTensors,
  type PredictionOutput,
  type ServedDescription,
} from "./session-outputs.ts";
import type { Feeds } from "./tensor-input.ts";

/** A model version's session loaded in the pool, as status shows it. */
export interface LoadedModel {
  model: string;
  version: number;
  description: ServedDescription;
  /** The inputs and outputs the model declares. */
  signature: ModelSignature;
  provider: string;
  /** Estimated memory of the session, for the budget (sessionBytes). */
  bytes: number;
  lastUsed: number;
}

/** A session as the pool holds it: what it runs with, where it came from, and whether it may be released. */
export interface Slot extends LoadedModel {
  session: ServingSession;
  /** Runs the session, batching requests. */
  batcher: MicroBatcher<PredictionOutput>;
  /** Builds the input tensors the session takes. */
  tensor: TensorBuilder;
  /** Where it came from, to load it again for a request that finds it released. */
  path: string;
  known?: Partial<ModelDescription>;
  /** When it was kept, for the minimum residence time. */
  keptSince: number;
  /** Requests queued or running: the session is released only once none is. */
  inFlight: number;
  /** Not (or no longer) kept: released once no request is in flight. */
  leaving: boolean;
  released: boolean;
}

/**
 * Resident memory of a loaded session, estimated from its model file: ONNX Runtime's tree ensembles take
 * several times the file once unpacked (measured in docs/performance.md), plus a fixed part per session.
 */
export function sessionBytes(fileBytes: number): number {
  return fileBytes * 9 + 327_680;
}

/**
 * Runs the session's table rows in micro-batches, counting the calls in `calls`. Made apart from the pool's
 * `load` so that its closure does not hold the model file's bytes for the session's life.
 */
export function sessionBatcher(
  tensor: TensorBuilder,
  session: ServingSession,
  description: ServedDescription,
  signature: ModelSignature,
  maxBatchRows: number,
  calls: { calls: number; rows: number },
): MicroBatcher<PredictionOutput> {
  const width = tableWidth(signature) ?? description.feature_names.length;
  const inputName = session.inputNames[0] ?? "features";
  return new MicroBatcher<PredictionOutput>(width, maxBatchRows, async (x, rows) => {
    calls.calls++;
    calls.rows += rows;
    return formatOutputs(await session.run({ [inputName]: tensor("float32", x, [rows, width]) }), description, rows);
  });
}

/** Runs checked tensors by input name through the slot's session as one call, counted in `calls`. */
export async function runFeedsOn(
  slot: Slot,
  feeds: Feeds,
  rows: number,
  calls: { calls: number; rows: number },
): Promise<OutputTensor[]> {
  const tensors = Object.fromEntries(
    Object.entries(feeds).map(([name, f]) => [name, slot.tensor(f.type, f.data, f.dims)]),
  );
  // A sequence of maps (ZipMap) cannot come back through onnxruntime-node: only tensors are asked for.
  const wanted = slot.signature.outputs.filter((o) => o.type !== "sequence").map((o) => o.name);
  calls.calls++;
  calls.rows += rows;
  return outputTensors(await slot.session.run(tensors, wanted));
}
