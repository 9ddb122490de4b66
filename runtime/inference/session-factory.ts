import { existsSync } from "node:fs";
import type * as Ort from "onnxruntime-common";
import { EdgetrainError, messageOf } from "../errors.ts";
import type { Logger } from "../plugin-api.ts";
import type { OnnxRuntime } from "./onnx-runtime.ts";
import { sessionOptions } from "./session-options.ts";

/** Creates the ONNX Runtime sessions of the session pool, on the execution provider the profile asks for. */
export class SessionFactory {
  /** CUDA failed once: later sessions go straight to the CPU. */
  private cudaFailed = false;

  constructor(
    private readonly options: {
      accelerator: "auto" | "cpu" | "cuda";
      threads?: number;
      cudaDevice?: string;
      logger: Logger;
    },
  ) {}

  /** CUDA where the profile asks for it; onnxruntime-node throws instead of falling back, so retry on CPU. */
  async create(
    runtime: OnnxRuntime,
    bytes: Uint8Array,
    model: string,
    version: number,
    path: string,
  ): Promise<{ session: Ort.InferenceSession; provider: string }> {
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
