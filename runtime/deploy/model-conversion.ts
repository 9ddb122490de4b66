import { mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { basename, join, resolve } from "node:path";
import type { Profile } from "../config/schema.ts";
import { EdgetrainError, messageOf } from "../errors.ts";
import type { ConvertResult, Logger, ProgressReporter, ResolvedPaths } from "../plugin-api.ts";
import { instantiate } from "../plugins/instantiate.ts";
import type { PluginRegistry } from "../plugins/registry.ts";

export interface ConversionParts {
  profile: Profile;
  paths: ResolvedPaths;
  registry: PluginRegistry;
  logger: Logger;
  signal?: AbortSignal;
  progress?: ProgressReporter;
}

export interface ConversionRequest {
  model: string;
  /** The file of the other framework, as the user named it. */
  file: string;
  /** `--converter NAME`: this one, whatever the extension. */
  converter?: string;
  exampleInput?: number[];
}

/** A file turned into ONNX, with what its framework said of the model. */
export interface Converted extends Omit<ConvertResult, "onnx"> {
  bytes: Uint8Array;
  converter: string;
  /** Of the file as given, before conversion. */
  sha256: string;
}

/**
 * The converter that takes the file (`--converter`, else the one whose extensions it has), or undefined for
 * an ONNX file, or one no converter claims, which is then imported as ONNX.
 */
export function converterFor(registry: PluginRegistry, file: string, chosen?: string): string | undefined {
  if (chosen) return chosen;
  if (file.toLowerCase().endsWith(".onnx")) return undefined;
  const claiming = registry.convertersFor(file);
  if (claiming.length > 1) {
    const names = claiming.map((plugin) => plugin.module.name);
    throw new EdgetrainError("usage", `${basename(file)}: converters ${names.join(" and ")} both take such files`, {
      hint: `choose one with --converter ${names[0]}`,
    });
  }
  return claiming[0]?.module.name;
}

/**
 * Runs the converter (its options from the profile's `converters` section) on the file in a folder of
 * its own under the cache, and reads the ONNX it wrote. Whatever fails is refused naming the file, and
 * nothing is stored.
 */
export async function convertModel(
  parts: ConversionParts,
  request: ConversionRequest,
  converter: string,
): Promise<Converted> {
  const file = resolve(request.file);
  const options = (parts.profile.converters[converter] ?? {}) as Record<string, unknown>;
  const signal = parts.signal ?? new AbortController().signal;
  const progress = parts.progress ?? { update() {} };
  const hooks = await instantiate("converter", converter, options, {
    plugins: parts.registry,
    logger: parts.logger.child({ converter }),
    paths: parts.paths,
    signal,
    progress,
  });
  const sha256 = new Bun.CryptoHasher("sha256").update(await readSource(request, file)).digest("hex");
  await mkdir(join(parts.paths.cache, "imports"), { recursive: true });
  const workDir = await mkdtemp(join(parts.paths.cache, "imports", `convert-${request.model}-`));
  try {
    let result: ConvertResult;
    try {
      result = await hooks.convert({ file, workDir, exampleInput: request.exampleInput, signal, progress });
    } catch (error) {
      throw refused(request, converter, messageOf(error));
    }
    let bytes: Uint8Array;
    try {
      bytes = await readFile(resolve(workDir, result.onnx));
    } catch (error) {
      throw refused(request, converter, `it wrote no ONNX file at ${result.onnx} (${messageOf(error)})`);
    }
    const { onnx: _onnx, ...said } = result;
    return { ...said, bytes, converter, sha256 };
  } finally {
    await rm(workDir, { recursive: true, force: true });
  }
}

async function readSource(request: ConversionRequest, file: string): Promise<Uint8Array> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new EdgetrainError("data_invalid", `${request.file} cannot be read: ${messageOf(error)}`, {
      details: { file: request.file },
    });
  }
}

function refused(request: ConversionRequest, converter: string, why: string): EdgetrainError {
  return new EdgetrainError(
    "model_not_convertible",
    `${basename(request.file)} was not converted by ${converter}: ${why}; model ${request.model} unchanged`,
    { details: { model: request.model, file: basename(request.file), converter } },
  );
}
