import { existsSync } from "node:fs";
import { EdgetrainError, messageOf } from "../errors.ts";
import type { Logger } from "../plugin-api.ts";
import type { OnnxRuntime } from "./onnx-runtime.ts";
import { ortServing, plainTensor, type ServingSession, type TensorBuilder } from "./serving-session.ts";
import { sessionOptions } from "./session-options.ts";
import { sessionBytes } from "./session-slot.ts";
import { readOnnxGraph } from "./tree-ensemble/read-onnx-graph.ts";
import { readTreeEnsemble } from "./tree-ensemble/read-tree-ensemble.ts";
import { ensembleBytes } from "./tree-ensemble/tree-ensemble.ts";
import { TreeEnsembleSession } from "./tree-ensemble/tree-ensemble-session.ts";

/** A model loaded for serving, with what runs it (`provider`) and its estimated resident memory. */
export interface CreatedSession {
  session: ServingSession;
  tensor: TensorBuilder;
  provider: string;
  /** Estimated resident memory, counted in `inference.memory_budget_mb`. */
  bytes: number;
}

/** What runs a tree ensemble that edgetrain walks itself, as status and events name it. */
export const BUILTIN_TREES = "builtin-trees";

/**
 * Loads the models the session pool serves: a model that is only a tree ensemble as flat arrays that
 * edgetrain walks itself (unless `inference.tree_ensembles: onnxruntime`), any other as an ONNX Runtime
 * session on the execution provider the profile asks for.
 */
export class SessionFactory {
  /** CUDA failed once: later sessions go straight to the CPU. */
  private cudaFailed = false;

  constructor(
    private readonly options: {
      accelerator: "auto" | "cpu" | "cuda";
      threads?: number;
      cudaDevice?: string;
      /** `inference.tree_ensembles` (builtin when left out). */
      treeEnsembles?: "builtin" | "onnxruntime";
      logger: Logger;
    },
  ) {}

  async create(
    loadRuntime: () => Promise<OnnxRuntime>,
    bytes: Uint8Array,
    model: string,
    version: number,
    path: string,
  ): Promise<CreatedSession> {
    const trees = this.options.treeEnsembles === "onnxruntime" ? undefined : treeEnsembleOf(bytes);
    if (trees) {
      const session = new TreeEnsembleSession(trees);
      return {
        session,
        tensor: plainTensor,
        provider: BUILTIN_TREES,
        bytes: ensembleBytes(trees.ensemble, bytes.byteLength),
      };
    }
    const runtime = await loadRuntime();
    const { session, provider } = await this.createOrt(runtime, bytes, model, version, path);
    return { ...ortServing(runtime, session), provider, bytes: sessionBytes(bytes.byteLength) };
  }

  /** CUDA where the profile asks for it; onnxruntime-node throws instead of falling back, so retry on CPU. */
  private async createOrt(runtime: OnnxRuntime, bytes: Uint8Array, model: string, version: number, path: string) {
    const base = sessionOptions(this.options.threads ?? 1);
    if (this.wantsCuda(runtime)) {
      try {
        // Severity 4 (fatal only): the failed attempt is reported once, as a warning, not as ONNX Runtime's error dump.
        return {
          session: await runtime.ort.InferenceSession.create(bytes, {
            ...base,
            executionProviders: ["cuda", "cpu"],
            logSeverityLevel: 4,
          }),
          provider: "cuda",
        };
      } catch (error) {
        this.cudaFailed = true;
        this.options.logger.warn("CUDA execution provider did not load; serving on CPU", {
          model,
          error: messageOf(error).split("\n")[0],
        });
      }
    }
    const provider = runtime.backend === "wasm" ? "wasm" : "cpu";
    try {
      return {
        session: await runtime.ort.InferenceSession.create(bytes, { ...base, executionProviders: [provider] }),
        provider,
      };
    } catch (error) {
      throw new EdgetrainError(
        "model_not_loadable",
        `model ${model} version ${version}: ${path} does not load in ONNX Runtime: ${messageOf(error).split("\n")[0]}`,
        { details: { model, version, file: path } },
      );
    }
  }

  private wantsCuda(runtime: OnnxRuntime): boolean {
    if (runtime.backend !== "native" || this.cudaFailed || this.options.accelerator === "cpu") return false;
    if (this.options.accelerator === "cuda") return true;
    return (runtime.optionalProviders ?? []).includes("cuda") && existsSync(this.options.cudaDevice ?? "/dev/nvidia0");
  }
}

/** The model's tree ensemble, when its graph is only that; a file that does not decode is left to ONNX Runtime. */
function treeEnsembleOf(bytes: Uint8Array) {
  try {
    return readTreeEnsemble(readOnnxGraph(bytes));
  } catch {
    return undefined;
  }
}
