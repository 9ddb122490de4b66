import { dirname, join } from "node:path";
import type * as Ort from "onnxruntime-common";
import { EdgetrainError, messageOf } from "../errors.ts";
import { glibcVersion, ORT_NATIVE_MIN_GLIBC, versionAtLeast } from "../hardware/glibc.ts";
import type { Logger } from "../plugin-api.ts";
import { build } from "../version.ts";
import { embeddedRuntimeFiles } from "./embedded-runtime-files.ts";
import { extractFiles } from "./extract.ts";

export type OrtBackendName = "native" | "wasm";

export interface OnnxRuntime {
  backend: OrtBackendName;
  ort: typeof Ort;
  version: string;
  /** Execution providers this backend ships with (`cpu`, `wasm`). */
  providers: string[];
  /** Providers it can use once their libraries are installed (`cuda`, `tensorrt`). */
  optionalProviders?: string[];
  /** Why the backend was chosen, when it is not the first choice. */
  note?: string;
}

export interface OnnxRuntimeRequest {
  preference: "auto" | OrtBackendName;
  /** Where embedded libraries are extracted; a folder under the home, not a noexec /tmp. */
  cacheDir: string;
  logger?: Logger;
  /** The C library version if already known (null: not glibc); detected when left out. */
  glibc?: string | null;
}

const ORT_VERSION = "1.30.0";

declare global {
  // Read by onnxruntime-node's binding.js as patched by scripts/build.ts.
  var __edgetrainOrtBindingPath: string | undefined;
}

const loaded = new Map<string, Promise<OnnxRuntime>>();

/** Loads ONNX Runtime once per preference: the native build where glibc allows, else the WebAssembly build. */
export function loadOnnxRuntime(request: OnnxRuntimeRequest): Promise<OnnxRuntime> {
  const glibc = request.glibc === undefined ? glibcVersion() : request.glibc;
  const key = `${request.preference}/${glibc}`;
  let runtime = loaded.get(key);
  if (!runtime) {
    runtime = chooseAndLoad(request, glibc ?? undefined).catch((error) => {
      loaded.delete(key);
      throw error;
    });
    loaded.set(key, runtime);
  }
  return runtime;
}

async function chooseAndLoad(request: OnnxRuntimeRequest, glibc: string | undefined): Promise<OnnxRuntime> {
  const carried = embeddedRuntimeFiles.carried ?? ["native", "wasm"];
  const only = carried.length === 1 ? carried[0] : undefined;
  if (only && request.preference !== "auto" && request.preference !== only) {
    throw new EdgetrainError(
      "runtime_unavailable",
      `inference.backend is ${request.preference}, but this binary (${build.target}) carries only ONNX Runtime's ` +
        `${only === "wasm" ? "WebAssembly" : "native"} build`,
      {
        hint:
          `set inference.backend: auto or ${only}, or use the ` +
          `linux-${process.arch === "arm64" ? "arm64" : "x64"} binary, which carries both`,
      },
    );
  }
  if (only === "wasm") return loadWasm(request, `this binary (${build.target}) carries only the WebAssembly build`);
  if (only === "native") return loadNative(request);
  if (request.preference === "wasm") return loadWasm(request, "asked for in the profile");
  if (request.preference === "auto" && (!glibc || !versionAtLeast(glibc, ORT_NATIVE_MIN_GLIBC))) {
    return loadWasm(
      request,
      `glibc ${glibc ?? "not found"} is older than the ${ORT_NATIVE_MIN_GLIBC} that native ONNX Runtime needs`,
    );
  }
  try {
    return await loadNative(request);
  } catch (error) {
    if (request.preference === "native") throw error;
    request.logger?.warn("native ONNX Runtime did not load; using WebAssembly", { error: messageOf(error) });
    return loadWasm(request, `native build did not load: ${messageOf(error)}`);
  }
}

async function loadNative(request: OnnxRuntimeRequest): Promise<OnnxRuntime> {
  const embedded = embeddedRuntimeFiles.native;
  if (embedded) {
    const dir = join(request.cacheDir, "runtime", `onnxruntime-${ORT_VERSION}-${process.platform}-${process.arch}`);
    const files = extractFiles(dir, {
      "onnxruntime_binding.node": embedded.addon,
      "libonnxruntime.so.1": embedded.library,
    });
    globalThis.__edgetrainOrtBindingPath = files["onnxruntime_binding.node"];
  }
  const ort = await import("onnxruntime-node");
  // `bundled: false` providers (CUDA, TensorRT) are known to the build but need libraries installed apart.
  const backends = (
    ort as unknown as { listSupportedBackends?: () => Array<{ name: string; bundled: boolean }> }
  ).listSupportedBackends?.() ?? [{ name: "cpu", bundled: true }];
  return {
    backend: "native",
    ort: ort as unknown as typeof Ort,
    version: ort.env.versions.common ?? ORT_VERSION,
    providers: backends.filter((b) => b.bundled).map((b) => b.name),
    optionalProviders: backends.filter((b) => !b.bundled).map((b) => b.name),
  };
}

async function loadWasm(request: OnnxRuntimeRequest, note: string): Promise<OnnxRuntime> {
  const embedded = embeddedRuntimeFiles.wasm;
  let wasmDir: string;
  if (embedded) {
    const dir = join(request.cacheDir, "runtime", `onnxruntime-web-${ORT_VERSION}`);
    extractFiles(dir, { "ort-wasm-simd-threaded.wasm": embedded.wasm, "ort-wasm-simd-threaded.mjs": embedded.loader });
    wasmDir = dir;
  } else {
    wasmDir = dirname(Bun.resolveSync("onnxruntime-web/ort-wasm-simd-threaded.wasm", import.meta.dir));
  }
  const ort = await import("onnxruntime-web");
  ort.env.wasm.wasmPaths = `${wasmDir}/`;
  // Threads would need workers loading the .mjs from disk; one thread is what the Nano fallback uses.
  ort.env.wasm.numThreads = 1;
  return {
    backend: "wasm",
    ort: ort as unknown as typeof Ort,
    version: ort.env.versions.web ?? ORT_VERSION,
    providers: ["wasm"],
    note,
  };
}
