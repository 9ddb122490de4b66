import { mkdirSync, readdirSync, rmSync } from "node:fs";
import { basename, dirname, isAbsolute, join } from "node:path";
import type {
  OptionsOf,
  PluginContext,
  PluginLibraries,
  PluginModule,
  ScoredFile,
  ScoreHooks,
  ScoreInput,
} from "../../runtime/plugin-api.ts";
import { predictionRows, type RowFormat } from "./prediction-rows.ts";

const options = ({ v }: PluginLibraries) =>
  v.strictObject({
    format: v.optional(
      v.pipe(v.picklist(["csv", "jsonl"]), v.description("csv, or jsonl (one JSON object per line).")),
      "csv",
    ),
    dir: v.optional(
      v.pipe(
        v.string(),
        v.minLength(1),
        v.description(
          "Folder for the predictions (absolute, or relative to the home), keeping the inputs' folders under the " +
            "data folder; default: next to each input.",
        ),
      ),
    ),
    columns: v.optional(
      v.pipe(
        v.array(v.string()),
        v.description("Input columns copied into each row of predictions (an id, a timestamp)."),
      ),
      [],
    ),
    probabilities: v.optional(
      v.pipe(v.boolean(), v.description("Classification: add each class's probability (`p_CLASS`).")),
      false,
    ),
  });

type Options = OptionsOf<typeof options>;

/** Where the predictions of `input` go: `NAME.predictions.csv` beside it, or under `dir`; such files are never data. */
function outputOf(input: ScoreInput, options: Options, home: string): string {
  const name = `${input.name.replace(/\.csv$/i, "")}.predictions.${options.format}`;
  if (options.dir === undefined) return join(dirname(input.file), basename(name));
  return join(folderIn(home, options.dir), name);
}

/** `dir` is absolute, or relative to the home. */
function folderIn(home: string, dir: string): string {
  return isAbsolute(dir) ? dir : join(home, dir);
}

/** Temporary files of this output that a process killed mid-write left (`.NAME.PID-RANDOM.partial`). */
function removeLeftovers(output: string): void {
  const prefix = `.${basename(output)}.`;
  for (const name of readdirSync(dirname(output))) {
    const pid =
      name.startsWith(prefix) && name.endsWith(".partial") ? Number(name.slice(prefix.length).split("-")[0]) : NaN;
    if (Number.isInteger(pid) && !alive(pid)) rmSync(join(dirname(output), name), { force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/**
 * Writes a model's predictions for each new data file, a row per input row with the line it came from, the
 * columns asked for, the prediction and the model version. Each file is written under a temporary name and
 * renamed once whole, so a crash never leaves half a predictions file.
 */
function predictions(context: PluginContext<Options>): ScoreHooks {
  const { options, libraries } = context;
  return {
    async score(request) {
      const scored: ScoredFile[] = [];
      for (const input of request.files) {
        const output = outputOf(input, options, context.paths.home);
        mkdirSync(dirname(output), { recursive: true });
        removeLeftovers(output);
        const format: RowFormat = {
          kind: options.format,
          columns: options.columns,
          probabilities: options.probabilities,
        };
        const rows = predictionRows(format, request.model);
        const file = await libraries.openAtomically(output);
        let count = 0;
        try {
          await file.write(rows.header());
          for await (const batch of input.batches({ columns: options.columns })) {
            const predicted = await request.model.predict(batch);
            await file.write(rows.batch(batch, predicted));
            count += batch.rows;
          }
          await file.commit();
        } finally {
          await file.discard();
        }
        context.logger.info("predictions written", { file: input.name, output, rows: count });
        scored.push({ input: input.file, output, rows: count });
      }
      return { files: scored };
    },
  };
}

export default {
  kind: "score",
  name: "predictions",
  version: "1.0.0",
  description:
    "Writes the active model's predictions for new data files, as CSV or JSON lines, with the model version " +
    "in each row.",
  options,
  // Without `dir` the predictions go beside their inputs, in paths.data.
  writes: ({ dir }, paths) => (dir === undefined ? [] : [folderIn(paths.home, dir)]),
  setup: predictions,
} satisfies PluginModule<"score", ReturnType<typeof options>>;
