import type { DeployHooks, PluginLibraries, PluginModule } from "../../runtime/plugin-api.ts";

const options = ({ v }: PluginLibraries) => v.strictObject({});

/** Makes the candidate serve: loaded before the switch, health-checked after it, rolled back on error. */
function activate(): DeployHooks {
  return {
    async deploy(candidate) {
      try {
        await candidate.activate();
        return { ok: true, message: `version ${candidate.version} serving` };
      } catch (error) {
        return { ok: false, message: (error as Error).message, rolledBack: true };
      }
    },
  };
}

export default {
  kind: "deploy",
  name: "activate",
  version: "1.0.0",
  description: "Switches the model's active version to the candidate.",
  options,
  setup: activate,
} satisfies PluginModule<"deploy", ReturnType<typeof options>>;
