/**
 * Builds one self-contained binary per target: `bun scripts/build.ts [--host-only] [--target linux-arm64]`.
 * This script is the only recipe; the README and the tests call it.
 */
import type { BunPlugin } from "bun";
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import pkg from "../package.json";

const root = resolve(import.meta.dir, "..");
const TARGETS = { "linux-x64": "x64", "linux-arm64": "arm64" } as const;
type Target = keyof typeof TARGETS;

const modules = join(root, "node_modules");
const WORKERS = ["runtime/training/strategy-worker.ts", "runtime/scoring/scoring-worker.ts", "plugins/strategies/random-forest/tree-worker.ts"];
const ortNativeDir = (arch: string) => join(modules, "onnxruntime-node/bin/napi-v6/linux", arch);
const ortWebDir = join(modules, "onnxruntime-web/dist");

/** Replaces the embedded-files module with one that embeds this target's ONNX Runtime files. */
function embedRuntimeFiles(arch: string): BunPlugin {
  return {
    name: "embed-onnxruntime",
    setup(build) {
      build.onLoad({ filter: /runtime[\\/]inference[\\/]embedded-runtime-files\.ts$/ }, () => ({
        loader: "ts",
        contents: `
          import addon from ${JSON.stringify(join(ortNativeDir(arch), "onnxruntime_binding.node"))} with { type: "file" };
          import library from ${JSON.stringify(join(ortNativeDir(arch), "libonnxruntime.so.1"))} with { type: "file" };
          import wasm from ${JSON.stringify(join(ortWebDir, "ort-wasm-simd-threaded.wasm"))} with { type: "file" };
          import loader from ${JSON.stringify(join(ortWebDir, "ort-wasm-simd-threaded.mjs"))} with { type: "file" };
          export const embeddedRuntimeFiles = { native: { addon, library }, wasm: { wasm, loader } };
        `,
      }));
      // onnxruntime-node requires its addon from a path next to itself; in the binary the addon lives in the
      // extracted cache folder instead, beside libonnxruntime.so.1 (see runtime/inference/onnx-runtime.ts).
      build.onLoad({ filter: /onnxruntime-node[\\/]dist[\\/]binding\.js$/ }, async (args) => {
        const source = await Bun.file(args.path).text();
        const patched = source.replace(/require\(`\.\.\/bin\/napi-v6\/\$\{process\.platform\}\/\$\{process\.arch\}\/onnxruntime_binding\.node`\)/, "require(globalThis.__edgetrainOrtBindingPath)");
        if (patched === source) throw new Error("onnxruntime-node's binding.js changed: update scripts/build.ts");
        return { loader: "js", contents: patched };
      });
      // protobufjs finds its `long` dependency through an eval'd require that the bundle cannot follow, and
      // then encodes int64 fields (ONNX node attributes) without it; a plain require lets the bundler see it.
      build.onLoad({ filter: /protobufjs[\\/]src[\\/]util[\\/]minimal\.js$/ }, async (args) => {
        const source = await Bun.file(args.path).text();
        const patched = source.replace('util.inquire("long")', 'require("long")');
        if (patched === source) throw new Error(`protobufjs changed (${args.path}): update scripts/build.ts`);
        return { loader: "js", contents: patched };
      });
      // Ink imports react-devtools-core only when DEV is set; marking it external still crashes the binary at
      // load, so it becomes an empty module.
      build.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: "react-devtools-core", namespace: "stub" }));
      build.onLoad({ filter: /.*/, namespace: "stub" }, () => ({ loader: "js", contents: "export default { initialize() {}, connectToDevTools() {} };" }));
    },
  };
}

export async function buildTarget(target: Target, outDir = join(root, "dist"), entry = join(root, "runtime/cli/main.ts"), name = "edgetrain"): Promise<string> {
  const outfile = join(outDir, `${name}-${target}`);
  mkdirSync(outDir, { recursive: true });
  const commit = (await Bun.$`git -C ${root} rev-parse --short HEAD`.nothrow().quiet().text()).trim() || "unknown";
  const result = await Bun.build({
    // Worker modules are entry points of their own: the binary starts them by their source path.
    entrypoints: [entry, ...WORKERS.map((worker) => join(root, worker))],
    compile: { target: `bun-${target}`, outfile, autoloadDotenv: false, autoloadBunfig: false },
    minify: true,
    sourcemap: "none",
    define: { EDGETRAIN_BUILD: JSON.stringify({ version: pkg.version, commit, target: `bun-${target}` }) },
    plugins: [embedRuntimeFiles(TARGETS[target])],
  });
  if (!result.success) throw new AggregateError(result.logs, `build for ${target} failed`);
  return outfile;
}

if (import.meta.main) {
  const { values } = parseArgs({ args: Bun.argv.slice(2), options: { "host-only": { type: "boolean" }, target: { type: "string", multiple: true } } });
  const host = `linux-${process.arch}` as Target;
  const targets: Target[] = values["host-only"] ? [host] : ((values.target as Target[] | undefined) ?? (Object.keys(TARGETS) as Target[]));
  for (const target of targets) {
    if (!(target in TARGETS)) throw new Error(`unknown target ${target}; known: ${Object.keys(TARGETS).join(", ")}`);
    const began = performance.now();
    const file = await buildTarget(target);
    const size = (Bun.file(file).size / 1048576).toFixed(0);
    console.log(`built ${file} (${size} MB) in ${((performance.now() - began) / 1000).toFixed(1)} s`);
  }
}
