/** What a converter plugin's setup() returns: it turns a model file of another framework into ONNX. */
import type { ProgressReporter } from "./context.ts";

export interface ConvertRequest {
  /** The file as the user gave it, absolute (`/home/me/forest.pkl`). */
  file: string;
  /** A fresh, empty folder for the converter's own files; removed after the import. Write the ONNX model here. */
  workDir: string;
  /**
   * `edgetrain models add … --example-input 1,3,224,224`: the shape of one input, for a framework whose file
   * does not say it (a pickled PyTorch module). The first dimension is the batch; it stays dynamic in the model.
   */
  exampleInput?: number[];
  /** Aborted when the user interrupts `edgetrain models add`: stop the child process. */
  signal: AbortSignal;
  progress: ProgressReporter;
}

export interface ConvertResult {
  /** The ONNX model written in `workDir`. */
  onnx: string;
  /** What the source framework says of the model, kept with the version unless the user said otherwise. */
  task?: "classification" | "regression";
  featureNames?: string[];
  /** Class names in the order of the probability columns. */
  classes?: string[];
  /** What was converted, in words, for the version's record: `scikit-learn RandomForestClassifier, 100 trees`. */
  description: string;
}

/**
 * A converter runs the user's own tools (their Python, their framework) in a supervised child process and
 * leaves an ONNX file; `edgetrain models add NAME FILE` picks it by the file's extension (`extensions` of
 * the plugin module) and imports the result like any ONNX file. A file it cannot convert is refused by
 * throwing an Error whose message says why in the user's words (the host names the file).
 */
export interface ConverterHooks {
  convert(request: ConvertRequest): Promise<ConvertResult>;
}
