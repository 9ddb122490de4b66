/**
 * An example user plugin: copy this file into a profile's plugins_dir (`<home>/plugins/` by default) and
 * name it in a job's triggers: `triggers: [{ type: flag-file, file: retrain.flag }]`. It fires when the flag
 * file appears, for the keys written in it (one a line; an empty file: every key of the job), then removes
 * it, so `echo player_7 > ~/.edgetrain/retrain.flag` asks for one model to be trained again.
 *
 * The `import type` is erased when the plugin loads, so its path only matters to an editor; everything
 * used at run time comes from Bun's own modules (node:fs, node:path) or through the context.
 */
import { existsSync, readFileSync, rmSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { OptionsOf, PluginContext, PluginLibraries, PluginModule, TriggerFire } from "../../runtime/plugin-api.ts";

const options = ({ v, duration }: PluginLibraries) =>
  v.strictObject({
    file: v.optional(
      v.pipe(v.string(), v.minLength(1), v.description("The flag file, relative to the home.")),
      "retrain.flag",
    ),
    poll: v.optional(v.pipe(duration, v.description("How often the file is looked for.")), "10s"),
  });

type Options = OptionsOf<typeof options>;

function flagFile(context: PluginContext<Options>) {
  const { clock, libraries, logger, paths } = context;
  const file = isAbsolute(context.options.file) ? context.options.file : join(paths.home, context.options.file);
  return {
    watch(fire: (event: TriggerFire) => void) {
      const check = () => {
        if (!existsSync(file)) return;
        const keys = readFileSync(file, "utf8")
          .split("\n")
          .map((line) => line.trim())
          .filter(Boolean);
        rmSync(file, { force: true });
        logger.info("flag file found", { file, keys });
        fire(
          keys.length > 0
            ? { keys, reason: `${context.options.file} asked for ${keys.join(", ")}` }
            : { reason: `${context.options.file} asked for every key` },
        );
      };
      check(); // a flag left while edgetrain was down counts at start
      const timer = clock.setInterval(check, libraries.durationMs(context.options.poll));
      return () => clock.clearInterval(timer);
    },
  };
}

export default {
  kind: "trigger",
  name: "flag-file",
  version: "1.0.0",
  description: "Fires when a flag file appears in the home, for the keys written in it; then removes it.",
  options,
  setup: flagFile,
} satisfies PluginModule<"trigger", ReturnType<typeof options>>;
