import { existsSync } from "node:fs";
import type { OptionsOf, PluginContext, PluginLibraries, PluginModule, TriggerFire } from "../../runtime/plugin-api.ts";

const options = ({ v, duration }: PluginLibraries) =>
  v.strictObject({
    check_every: v.optional(v.pipe(duration, v.description("How often keys are checked for a model.")), "1m"),
  });

type Options = OptionsOf<typeof options>;

/**
 * Fires for every key that has no model yet: none serves, and no successful run left one (none ran, its
 * model file is gone, or its deploy never finished: failed, or cut short by a crash). At start, and when a
 * new key appears. A model that serves counts even without a run on record (a rebuilt state database); a
 * deploy that ended without activating on purpose (no `activate` step) counts as a model.
 */
function modelMissing(context: PluginContext<Options>) {
  return {
    watch(fire: (event: TriggerFire) => void) {
      const { clock, job } = context;
      if (!job) throw new Error("model-missing watches a job's keys: it belongs in a job's triggers");
      // Asked for once per key while it stays missing; a failed run does not make it fire again each minute.
      const asked = new Set<string | undefined>();
      const check = async () => {
        let keys: Array<string | undefined>;
        try {
          keys = await job.keys();
        } catch (error) {
          context.logger.warn("cannot list the job's keys", { error: (error as Error).message });
          return;
        }
        const missing = keys.filter((key) => {
          const last = job.lastSuccess(key);
          const has =
            job.activeVersion(key) !== undefined ||
            (last?.artifact !== undefined && last.deploy === "done" && existsSync(last.artifact));
          if (has) asked.delete(key);
          return !has && !asked.has(key);
        });
        if (missing.length === 0) return;
        for (const key of missing) asked.add(key);
        const names = missing.map((key) => key ?? job.name);
        fire({
          keys: missing as string[],
          reason:
            `no model yet for ` +
            `${names.length > 5 ? `${names.length} keys (${names.slice(0, 3).join(", ")}, …)` : names.join(", ")}`,
        });
      };
      const timer = clock.setInterval(() => void check(), context.libraries.durationMs(context.options.check_every));
      void check();
      return () => clock.clearInterval(timer);
    },
  };
}

export default {
  kind: "trigger",
  name: "model-missing",
  version: "1.0.0",
  description: "Runs a job for keys that have no model yet.",
  options,
  setup: modelMissing,
} satisfies PluginModule<"trigger", ReturnType<typeof options>>;
