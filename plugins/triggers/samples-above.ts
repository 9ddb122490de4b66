import { readFileSync } from "node:fs";
import type { OptionsOf, PluginContext, PluginLibraries, PluginModule, TriggerFire } from "../../runtime/plugin-api.ts";

const options = ({ v, duration }: PluginLibraries) =>
  v.strictObject({
    rows: v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      v.description("Fire when this many rows were added since the last fire."),
    ),
    poll: v.optional(duration, "1m"),
  });

type Options = OptionsOf<typeof options>;

const WHOLE_JOB = "";

/** Rows in a CSV file (lines after the header), cached by size and mtime so unchanged files are not re-read. */
function rowCounter(fingerprint: (file: string) => string) {
  const cache = new Map<string, { signature: string; rows: number }>();
  return (file: string): number => {
    try {
      const signature = fingerprint(file);
      const cached = cache.get(file);
      if (cached?.signature === signature) return cached.rows;
      const text = readFileSync(file, "utf8");
      let lines = 0;
      for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) lines++;
      if (text.length > 0 && !text.endsWith("\n")) lines++;
      const rows = Math.max(0, lines - 1);
      cache.set(file, { signature, rows });
      return rows;
    } catch {
      return 0;
    }
  };
}

/**
 * Fires for the keys whose data grew by `rows` since the last fire (sessions by folder, rows by file or as a whole).
 */
function samplesAbove(context: PluginContext<Options>) {
  const count = rowCounter(context.data.fingerprint);
  const counts = (): Record<string, number> => {
    const files = Object.entries(context.data.filesByKey());
    return Object.fromEntries(files.map(([key, paths]) => [key, paths.reduce((sum, file) => sum + count(file), 0)]));
  };
  return {
    watch(fire: (event: TriggerFire) => void) {
      const { clock, store } = context;
      const baseline = store.get<Record<string, number>>("baseline") ?? {};
      const check = () => {
        const now = counts();
        const grown: string[] = [];
        for (const [key, rows] of Object.entries(now)) {
          if (baseline[key] === undefined)
            baseline[key] = rows; // a key seen for the first time starts counting here
          else if (rows - baseline[key]! >= context.options.rows) {
            grown.push(key);
            baseline[key] = rows;
          }
        }
        store.set("baseline", baseline);
        if (grown.length === 0) return;
        fire(
          grown.includes(WHOLE_JOB)
            ? { reason: `${context.options.rows}+ rows added` }
            : { keys: grown.sort(), reason: `${context.options.rows}+ rows added for ${grown.join(", ")}` },
        );
      };
      const timer = clock.setInterval(check, context.libraries.durationMs(context.options.poll));
      check();
      return () => clock.clearInterval(timer);
    },
  };
}

export default {
  kind: "trigger",
  name: "samples-above",
  version: "1.0.0",
  description: "Runs a job for keys whose data grew by a number of rows.",
  options,
  setup: samplesAbove,
} satisfies PluginModule<"trigger", ReturnType<typeof options>>;
