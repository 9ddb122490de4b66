import { isAbsolute, join } from "node:path";
import type { DeployHooks, OptionsOf, PluginContext, PluginLibraries, PluginModule } from "../../runtime/plugin-api.ts";

const options = ({ v }: PluginLibraries) =>
  v.strictObject({
    dir: v.pipe(
      v.string(),
      v.minLength(1),
      v.description(
        "Folder existing predictors read models from (absolute, or relative to the home), e.g. " +
          "athlete_models_tensors_updated.",
      ),
    ),
    previous_dir: v.optional(
      v.pipe(
        v.string(),
        v.description("The file being replaced is kept here first, e.g. athlete_models_tensors_previous."),
      ),
    ),
    file_name: v.optional(
      v.pipe(
        v.string(),
        v.regex(/^[^/\\]+$/, "a file name without folders"),
        v.description("Name of the file: {model}, {key}, {job} and {version} are filled in."),
      ),
      "{key}.onnx",
    ),
  });

/**
 * For predictors that read model files themselves (the Nano layout): writes the candidate into `dir`
 * atomically after keeping the replaced file in `previous_dir`, when the job's live predictors allow it
 * (its conflict policy: wait, skip or force). A copy they hold up stays pending and is written once they go
 * quiet; a rollback of the model puts the replaced file back from `previous_dir`, and any other activation
 * of it puts the serving version's file there.
 */
function copyToDir(context: PluginContext<OptionsOf<typeof options>>): DeployHooks {
  const resolve = (dir: string) => folderIn(context.paths.home, dir);
  return {
    async deploy(candidate) {
      const name = context.options.file_name
        .replaceAll("{model}", candidate.model)
        .replaceAll("{key}", candidate.key ?? candidate.model)
        .replaceAll("{job}", candidate.job)
        .replaceAll("{version}", String(candidate.version));
      const { previous_dir } = context.options;
      const target = join(resolve(context.options.dir), name);
      const previous = previous_dir !== undefined ? join(resolve(previous_dir), name) : undefined;
      const placed = await candidate.placeFile(target, previous);
      // Pending is not a failure: the copy is kept and written once the predictors go quiet.
      return { ok: placed.written || placed.pending, message: placed.message };
    },
  };
}

/** `dir` and `previous_dir` are absolute, or relative to the home. */
function folderIn(home: string, dir: string): string {
  return isAbsolute(dir) ? dir : join(home, dir);
}

export default {
  kind: "deploy",
  name: "copy-to-dir",
  version: "1.1.0",
  description: "Copies the candidate into a folder other predictors read, keeping the replaced file; retried if held.",
  options,
  writes: ({ dir, previous_dir }, paths) =>
    [dir, previous_dir].flatMap((folder) => (folder === undefined ? [] : [folderIn(paths.home, folder)])),
  setup: copyToDir,
} satisfies PluginModule<"deploy", ReturnType<typeof options>>;
