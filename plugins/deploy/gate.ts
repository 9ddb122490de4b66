import type { DeployHooks, OptionsOf, PluginContext, PluginLibraries, PluginModule } from "../../runtime/plugin-api.ts";

const options = ({ v }: PluginLibraries) =>
  v.strictObject({
    tolerance: v.optional(
      v.pipe(
        v.number(),
        v.minValue(0),
        v.description(
          "How much worse than the active version the candidate may be: accuracy points (0.01 = 1 point), or RMSE as " +
            "a fraction of the active one's.",
        ),
      ),
      0.01,
    ),
    min_accuracy: v.optional(
      v.pipe(
        v.number(),
        v.minValue(0),
        v.maxValue(1),
        v.description("A candidate at or above this accuracy passes whatever the active version scores."),
      ),
    ),
  });

/**
 * Scores the candidate and the active version on the same held-out rows and lets the candidate through
 * only if it is not worse by more than `tolerance` (or reaches `min_accuracy`). A rejected candidate stays
 * in the store, shown as rejected with both scores. With no active version, or a damaged one, it passes.
 */
function gate(context: PluginContext<OptionsOf<typeof options>>): DeployHooks {
  const { tolerance, min_accuracy } = context.options;
  return {
    async deploy(candidate) {
      const mine = await candidate.score();
      if (!mine) return { ok: true, message: "no held-out rows to score on; passed without comparison" };
      const gate: Record<string, unknown> = {
        metric: mine.metric,
        candidate: round(mine.value),
        rows: mine.rows,
        tolerance,
      };
      if (!Number.isFinite(mine.value)) {
        const reason =
          `rejected: ${mine.metric} ${mine.value} on ${mine.rows} held-out rows: its predictions cannot be scored ` +
          `as ${mine.metric === "rmse" ? "values (is it a classifier?)" : "classes"}`;
        candidate.reject(reason, { ...gate, candidate: null, passed: false, reason });
        context.logger.warn(`model ${candidate.model} version ${candidate.version} ${reason}`);
        return { ok: false, message: reason };
      }
      // A damaged active version answers nothing but errors: anything intact is better, as with a first version.
      const damaged = candidate.previousVersion !== undefined ? await candidate.damagedActive() : undefined;
      if (damaged) {
        const damage = `the active version ${damaged.version} is damaged (file ${damaged.file})`;
        const reason = `${damage}: compared against nothing`;
        candidate.note({ ...gate, passed: true, damaged_version: damaged.version, damaged_file: damaged.file, reason });
        context.logger.warn(`model ${candidate.model} version ${candidate.version} passed: ${reason}`, {
          problem: damaged.problem,
        });
        return { ok: true, message: `passed: ${mine.metric} ${round(mine.value)}; ${reason}` };
      }
      const active =
        candidate.previousVersion !== undefined ? await candidate.score(candidate.previousVersion) : undefined;
      if (!active) {
        candidate.note({ ...gate, passed: true, reason: "no active version to compare with" });
        return { ok: true, message: `${mine.metric} ${round(mine.value)}; first version` };
      }
      // An active version scored another way, or not at all, cannot show the candidate worse.
      if (active.metric !== mine.metric || !Number.isFinite(active.value)) {
        const reason =
          `the active version ${candidate.previousVersion} scores ${active.metric} ${active.value}, ` +
          `not comparable with ${mine.metric}: compared against nothing`;
        candidate.note({ ...gate, passed: true, active_version: candidate.previousVersion, reason });
        context.logger.warn(`model ${candidate.model} version ${candidate.version} passed: ${reason}`);
        return { ok: true, message: `passed: ${mine.metric} ${round(mine.value)}; ${reason}` };
      }
      gate.active = round(active.value);
      gate.active_version = candidate.previousVersion;
      const worseBy =
        mine.metric === "accuracy"
          ? active.value - mine.value
          : (mine.value - active.value) / Math.max(active.value, 1e-12);
      const reachesFloor = mine.metric === "accuracy" && min_accuracy !== undefined && mine.value >= min_accuracy;
      const passed = worseBy <= tolerance + 1e-12 || reachesFloor;
      const summary =
        `${mine.metric} ${round(mine.value)} vs ${round(active.value)} of version ` +
        `${candidate.previousVersion} on ${mine.rows} held-out rows`;
      if (!passed) {
        const reason = `rejected: ${summary} (worse by more than the tolerance ${tolerance})`;
        candidate.reject(reason, { ...gate, passed: false });
        context.logger.warn(`model ${candidate.model} version ${candidate.version} ${reason}`);
        return { ok: false, message: reason };
      }
      candidate.note({ ...gate, passed: true });
      return { ok: true, message: `passed: ${summary}` };
    },
  };
}

const round = (value: number) => Math.round(value * 10_000) / 10_000;

export default {
  kind: "deploy",
  name: "gate",
  version: "1.0.0",
  description: "Activates a candidate only if it is not worse than the active version on the same held-out rows.",
  options,
  setup: gate,
} satisfies PluginModule<"deploy", ReturnType<typeof options>>;
