/**
 * Paths of the ONNX Runtime files embedded in a compiled binary. From source this is empty and the
 * packages in node_modules are used as they are. scripts/build.ts replaces this module for each target
 * with one that imports the target's files `with { type: "file" }`, because `bun build --compile` embeds
 * onnxruntime-node's addon but not the `libonnxruntime.so.1` it links to.
 */
export interface EmbeddedRuntimeFiles {
  /** onnxruntime_binding.node and libonnxruntime.so.1 of the target platform. */
  native?: { addon: string; library: string };
  /** onnxruntime-web's WebAssembly build: the .wasm and its loader .mjs. */
  wasm?: { wasm: string; loader: string };
}

export const embeddedRuntimeFiles: EmbeddedRuntimeFiles = {};
