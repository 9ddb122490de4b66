import { existsSync, mkdirSync, readFileSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { DeployHooks, OptionsOf, PluginContext, PluginLibraries, PluginModule } from "../../runtime/plugin-api.ts";

const options = ({ v }: PluginLibraries) =>
  v.strictObject({
    dir: v.pipe(v.string(), v.minLength(1), v.description("Folder existing predictors read models from (absolute, or relative to the home), e.g. athlete_models_tensors_updated.")),
    previous_dir: v.optional(v.pipe(v.string(), v.description("The file being replaced is kept here first, e.g. athlete_models_tensors_previous."))),
    file_name: v.optional(v.pipe(v.string(), v.regex(/^[^/\\]+$/, "a file name without folders"), v.description("Name of the file: {model}, {key}, {job} and {version} are filled in.")), "{key}.onnx"),
  });

/**
 * For predictors that read model files themselves (the Nano layout): writes the candidate into `dir`
 * atomically after keeping the replaced file in `previous_dir`, and only when the job's live predictors
 * allow it (its conflict policy: wait, skip or force).
 */
function copyToDir(context: PluginContext<OptionsOf<typeof options>>): DeployHooks {
  const { writeAtomically } = context.libraries;
  const resolve = (dir: string) => (isAbsolute(dir) ? dir : join(context.paths.home, dir));
  return {
    async deploy(candidate) {
      const name = context.options.file_name
        .replaceAll("{model}", candidate.model)
        .replaceAll("{key}", candidate.key ?? candidate.model)
        .replaceAll("{job}", candidate.job)
        .replaceAll("{version}", String(candidate.version));
      const clearance = await candidate.clearOfPredictors();
      if (!clearance.clear) return { ok: false, message: `did not write ${name}: ${clearance.message}` };
      const dir = resolve(context.options.dir);
      const target = join(dir, name);
      mkdirSync(dir, { recursive: true });
      if (context.options.previous_dir !== undefined && existsSync(target)) {
        const previousDir = resolve(context.options.previous_dir);
        mkdirSync(previousDir, { recursive: true });
        writeAtomically(join(previousDir, name), readFileSync(target));
      }
      // Readers see the old file or the new one under the real name, never a gap or half a file.
      writeAtomically(target, readFileSync(candidate.artifact));
      context.logger.info("model copied for file-reading predictors", { model: candidate.model, version: candidate.version, file: target, ...(clearance.message ? { note: clearance.message } : {}) });
      return { ok: true, message: `wrote ${target}` };
    },
  };
}

export default {
  kind: "deploy",
  name: "copy-to-dir",
  version: "1.0.0",
  description: "Copies the candidate into a folder that other predictors read, keeping the replaced file.",
  options,
  setup: copyToDir,
} satisfies PluginModule<"deploy", ReturnType<typeof options>>;
