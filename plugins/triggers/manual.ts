import type { OptionsOf, PluginContext, PluginLibraries, PluginModule } from "../../runtime/plugin-api.ts";

const options = ({ v }: PluginLibraries) => v.strictObject({});

/**
 * Runs a job only when asked: `edgetrain train JOB` or `POST /v1/jobs/:name/run`. It watches nothing;
 * the scheduler delivers those requests itself, so listing it documents that a job is run by hand.
 */
export default {
  kind: "trigger",
  name: "manual",
  version: "1.0.0",
  description: "Run only when asked from the CLI or the API.",
  options,
  setup: (_context: PluginContext<OptionsOf<typeof options>>) => ({ watch: () => undefined }),
} satisfies PluginModule<"trigger", ReturnType<typeof options>>;
