/**
 * Paths of the ONNX Runtime files embedded in a compiled binary. From source this is empty and the
 * packages in node_modules are used as they are. scripts/build.ts replaces this module for each target
 * with one that imports the target's files `with { type: "file" }`, because `bun build --compile` embeds
 * onnxruntime-node's addon but not the `libonnxruntime.so.1` it links to.
 */
/** A file inside the binary: its path there, and the size it has once extracted (gzip: compressed inside). */
export interface EmbeddedFile {
  path: string;
  bytes: number;
  gzip: boolean;
}

export interface EmbeddedRuntimeFiles {
  /** The builds a compiled binary carries (its target's); absent from source, where node_modules has both. */
  carried?: ReadonlyArray<"native" | "wasm">;
  /** onnxruntime_binding.node and libonnxruntime.so.1 of the target platform. */
  native?: { addon: EmbeddedFile; library: EmbeddedFile };
  /** onnxruntime-web's WebAssembly build: the .wasm and its loader .mjs. */
  wasm?: { wasm: EmbeddedFile; loader: EmbeddedFile };
}

export const embeddedRuntimeFiles: EmbeddedRuntimeFiles = {};
