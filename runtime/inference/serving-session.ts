import type * as Ort from "onnxruntime-common";

/** A tensor as serving passes it around: ONNX Runtime's, or plain typed data with its dimensions. */
export interface TensorLike {
  type: string;
  dims: readonly number[];
  data: unknown;
}

/**
 * What serving needs of a loaded model: an ONNX Runtime session, or a tree ensemble that edgetrain walks
 * itself (tree-ensemble/tree-ensemble-session.ts).
 */
export interface ServingSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  readonly inputMetadata?: readonly Ort.InferenceSession.ValueMetadata[];
  readonly outputMetadata?: readonly Ort.InferenceSession.ValueMetadata[];
  run(feeds: Record<string, TensorLike>, fetches?: readonly string[]): Promise<Record<string, TensorLike>>;
  release(): Promise<void>;
}

/** Builds an input tensor the session takes. */
export type TensorBuilder = (type: string, data: unknown, dims: readonly number[]) => TensorLike;

export const plainTensor: TensorBuilder = (type, data, dims) => ({ type, data, dims });

/** An ONNX Runtime session as a serving session, with the builder of its runtime's tensors. */
export function ortServing(
  runtime: { ort: typeof Ort },
  session: Ort.InferenceSession,
): { session: ServingSession; tensor: TensorBuilder } {
  return {
    session: session as unknown as ServingSession,
    tensor: (type, data, dims) => new runtime.ort.Tensor(type as never, data as never, [...dims]),
  };
}
