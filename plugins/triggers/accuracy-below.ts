import type { OptionsOf, PluginContext, PluginLibraries, PluginModule, TriggerFire } from "../../runtime/plugin-api.ts";

const options = ({ v, duration }: PluginLibraries) =>
  v.strictObject({
    below: v.optional(
      v.pipe(
        v.number(),
        v.minValue(0),
        v.maxValue(1),
        v.description("Retrain when accuracy on new data falls below this (classification)."),
      ),
      0.85,
    ),
    rmse_above: v.optional(
      v.pipe(v.number(), v.minValue(0), v.description("Retrain when RMSE on new data rises above this (regression).")),
    ),
    min_rows: v.optional(
      v.pipe(v.number(), v.integer(), v.minValue(1), v.description("New rows needed before a score counts.")),
      50,
    ),
    check_every: v.optional(duration, "10m"),
  });

type Options = OptionsOf<typeof options>;

/**
 * Scores each key's latest model on the newest data it has not trained on (through the host, which runs it
 * in ONNX Runtime) and fires for the keys whose accuracy fell below `below` (or RMSE rose above
 * `rmse_above`). The same data is scored once: its fingerprint is kept in the plugin's store.
 */
function accuracyBelow(context: PluginContext<Options>) {
  return {
    watch(fire: (event: TriggerFire) => void) {
      const { clock, store, job } = context;
      if (!job) throw new Error("accuracy-below watches a job's models: it belongs in a job's triggers");
      const { below, rmse_above: rmseAbove, min_rows: minRows } = context.options;
      let checking = false;
      const check = async () => {
        if (checking) return;
        checking = true;
        try {
          const scored = store.get<Record<string, string>>("scored") ?? {};
          const worse: string[] = [];
          const reasons: string[] = [];
          for (const key of await job.keys()) {
            const score = await job.scoreLatest(key).catch((error: Error) => {
              context.logger.warn("could not score the model", { key, error: error.message });
              return undefined;
            });
            if (!score || score.rows < minRows || scored[key ?? ""] === score.signature) continue;
            scored[key ?? ""] = score.signature;
            const bad =
              score.metric === "accuracy" ? score.value < below : rmseAbove !== undefined && score.value > rmseAbove;
            context.events.emit("trigger.scored", { job: job.name, key, ...score, bad });
            if (!bad) continue;
            worse.push(key ?? "");
            reasons.push(
              `${key ?? job.name}: ${score.metric} ${score.value.toFixed(3)} on ${score.rows} new rows (${score.data})`,
            );
          }
          store.set("scored", scored);
          if (worse.length)
            fire({
              keys: worse.every(Boolean) ? worse : undefined,
              reason: `model worse on new data: ${reasons.join("; ")}`,
            });
        } finally {
          checking = false;
        }
      };
      const timer = clock.setInterval(() => void check(), context.libraries.durationMs(context.options.check_every));
      void check();
      return () => clock.clearInterval(timer);
    },
  };
}

export default {
  kind: "trigger",
  name: "accuracy-below",
  version: "1.0.0",
  description: "Runs a job for keys whose model scores worse on data it has not trained on.",
  options,
  setup: accuracyBelow,
} satisfies PluginModule<"trigger", ReturnType<typeof options>>;
