/**
 * Builds one self-contained binary per target (scripts/build-targets.ts) into dist/, with dist/SHA256SUMS:
 * `bun scripts/build.ts [--host-only] [--target jetson-nano …]`. This script is the only recipe; the README
 * and the tests call it.
 */

import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { basename, join, resolve } from "node:path";
import { parseArgs } from "node:util";
import type { BunPlugin } from "bun";
import pkg from "../package.json";
import { type BuildTarget, isTargetName, TARGETS, type TargetName } from "./build-targets.ts";

const root = resolve(import.meta.dir, "..");

const modules = join(root, "node_modules");
const WORKERS = [
  "runtime/training/strategy-worker.ts",
  "runtime/scoring/scoring-worker.ts",
  "plugins/strategies/random-forest/tree-worker.ts",
];
const ortNativeDir = (arch: string) => join(modules, "onnxruntime-node/bin/napi-v6/linux", arch);
const ortWebDir = join(modules, "onnxruntime-web/dist");

interface RuntimeFile {
  /** The name in the generated module: `addon`, `library`, `wasm`, `loader`. */
  name: string;
  build: "native" | "wasm";
  path: string;
  /** Embedded gzipped and unpacked on first use: the large ones. */
  pack: boolean;
}

/** The ONNX Runtime files a target's binary carries: only those of the builds it can load. */
export function runtimeFilesOf(target: BuildTarget): RuntimeFile[] {
  const native = ortNativeDir(target.arch);
  const all: RuntimeFile[] = [
    { name: "addon", build: "native", path: join(native, "onnxruntime_binding.node"), pack: false },
    { name: "library", build: "native", path: join(native, "libonnxruntime.so.1"), pack: true },
    { name: "wasm", build: "wasm", path: join(ortWebDir, "ort-wasm-simd-threaded.wasm"), pack: true },
    { name: "loader", build: "wasm", path: join(ortWebDir, "ort-wasm-simd-threaded.mjs"), pack: false },
  ];
  return all.filter((file) => target.ort.includes(file.build));
}

/** The embedded-files module for a target; packed files are written gzipped into `packDir` first. */
function embeddedFilesModule(target: BuildTarget, packDir: string): string {
  const imports: string[] = [];
  const entries = new Map<string, string[]>();
  for (const file of runtimeFilesOf(target)) {
    const source = readFileSync(file.path);
    let embedded = file.path;
    if (file.pack) {
      mkdirSync(packDir, { recursive: true });
      embedded = join(packDir, `${basename(file.path)}-${target.arch}.gz`);
      writeFileSync(embedded, Bun.gzipSync(source, { level: 9 }));
    }
    imports.push(`import ${file.name}File from ${JSON.stringify(embedded)} with { type: "file" };`);
    const fields = `${file.name}: { path: ${file.name}File, bytes: ${source.byteLength}, gzip: ${file.pack} }`;
    entries.set(file.build, [...(entries.get(file.build) ?? []), fields]);
  }
  const parts = [
    `carried: ${JSON.stringify(target.ort)}`,
    ...[...entries].map(([build, fields]) => `${build}: { ${fields.join(", ")} }`),
  ];
  return `${imports.join("\n")}\nexport const embeddedRuntimeFiles = { ${parts.join(", ")} };`;
}

/** Replaces the embedded-files module with one that embeds this target's ONNX Runtime files. */
function embedRuntimeFiles(target: BuildTarget, packDir: string): BunPlugin {
  return {
    name: "embed-onnxruntime",
    setup(build) {
      build.onLoad({ filter: /runtime[\\/]inference[\\/]embedded-runtime-files\.ts$/ }, () => ({
        loader: "ts",
        contents: embeddedFilesModule(target, packDir),
      }));
      // onnxruntime-node requires its addon from a path next to itself; in the binary the addon lives in the
      // extracted cache folder instead, beside libonnxruntime.so.1 (see runtime/inference/onnx-runtime.ts).
      build.onLoad({ filter: /onnxruntime-node[\\/]dist[\\/]binding\.js$/ }, async (args) => {
        const source = await Bun.file(args.path).text();
        const patched = source.replace(
          /require\(`\.\.\/bin\/napi-v6\/\$\{process\.platform\}\/\$\{process\.arch\}\/onnxruntime_binding\.node`\)/,
          "require(globalThis.__edgetrainOrtBindingPath)",
        );
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
      build.onLoad({ filter: /.*/, namespace: "stub" }, () => ({
        loader: "js",
        contents: "export default { initialize() {}, connectToDevTools() {} };",
      }));
    },
  };
}

export async function buildTarget(
  name: TargetName,
  outDir = join(root, "dist"),
  entry = join(root, "runtime/cli/main.ts"),
  binary = "edgetrain",
): Promise<string> {
  const target: BuildTarget = TARGETS[name];
  const outfile = join(outDir, `${binary}-${name}`);
  mkdirSync(outDir, { recursive: true });
  const commit = (await Bun.$`git -C ${root} rev-parse --short HEAD`.nothrow().quiet().text()).trim() || "unknown";
  const result = await Bun.build({
    // Worker modules are entry points of their own: the binary starts them by their source path.
    entrypoints: [entry, ...WORKERS.map((worker) => join(root, worker))],
    compile: { target: `bun-linux-${target.arch}`, outfile, autoloadDotenv: false, autoloadBunfig: false },
    minify: true,
    sourcemap: "none",
    define: {
      EDGETRAIN_BUILD: JSON.stringify({
        version: pkg.version,
        commit,
        target: name,
        platform: `bun-linux-${target.arch}`,
        profile: target.profile,
      }),
    },
    plugins: [embedRuntimeFiles(target, join(outDir, ".embedded"))],
  });
  if (!result.success) throw new AggregateError(result.logs, `build for ${target} failed`);
  return outfile;
}

/** `dist/SHA256SUMS` in sha256sum's format, for the binaries in the folder. */
export function writeChecksums(files: readonly string[], outDir: string): string {
  const lines = files.map(
    (file) => `${createHash("sha256").update(readFileSync(file)).digest("hex")}  ${basename(file)}`,
  );
  const path = join(outDir, "SHA256SUMS");
  writeFileSync(path, `${lines.join("\n")}\n`);
  return path;
}

if (import.meta.main) {
  const { values } = parseArgs({
    args: Bun.argv.slice(2),
    options: { "host-only": { type: "boolean" }, target: { type: "string", multiple: true } },
  });
  const host = `linux-${process.arch}`;
  const names = values["host-only"] ? [host] : (values.target ?? Object.keys(TARGETS));
  const unknown = names.filter((name) => !isTargetName(name));
  if (unknown.length > 0) {
    console.error(`edgetrain build: unknown target ${unknown.join(", ")}; known: ${Object.keys(TARGETS).join(", ")}`);
    process.exit(2);
  }
  const files: string[] = [];
  for (const name of names as TargetName[]) {
    const began = performance.now();
    const file = await buildTarget(name);
    files.push(file);
    const size = (Bun.file(file).size / 1048576).toFixed(0);
    console.log(`built ${file} (${size} MB) in ${((performance.now() - began) / 1000).toFixed(1)} s`);
  }
  console.log(`wrote ${writeChecksums(files, join(root, "dist"))}`);
}
