import type { ErrorCode } from "../errors.ts";
import type { PredictionOutput } from "../inference/session-outputs.ts";

/** A prediction service's answer to a predict request. */
export interface Prediction {
  model: string;
  version: number;
  outputs: PredictionOutput[];
  cached: boolean;
  /** Served from an expired entry while the model is busy training; a fresh answer is being computed. */
  stale?: boolean;
}

/**
 * Each predict request: `code` is "ok" for an answer, else the error's code; `model` is "" for a model the
 * store does not hold. `outputs` (answers only) lets a listener count the classes predicted, the fleet's
 * drift histogram.
 */
export type PredictionListener = (
  model: string,
  code: "ok" | ErrorCode,
  seconds: number,
  outputs?: readonly PredictionOutput[],
) => void;
