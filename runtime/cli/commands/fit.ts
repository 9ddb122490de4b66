import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type * as v from "valibot";
import { parse as parseYaml } from "yaml";
import { allowedKeysAt } from "../../config/schema-walk.ts";
import { readCsvTable } from "../../data/csv-table.ts";
import { csvFilesIn, tableOf } from "../../data/load-training-data.ts";
import { EdgetrainError, suggestion } from "../../errors.ts";
import { writeAtomically } from "../../files/write-atomically.ts";
import { LogSink } from "../../log/logger.ts";
import type { TrainingData } from "../../plugin-api.ts";
import { loadPlugins } from "../../plugins/host.ts";
import { checkOptions, type PluginScope } from "../../plugins/instantiate.ts";
import { recordRunProcess } from "../../training/leftover-trainers.ts";
import { RunRecorder } from "../../training/run-recorder.ts";
import { runStrategy } from "../../training/run-strategy.ts";
import { type Command, listFlag, type ParsedArgs, stringFlag } from "../command.ts";
import { homeOptions, loadValidHomeProfile, openHomeStateAt } from "../home.ts";
import { writeJson } from "../json-answer.ts";
import { progressBar } from "../progress-bar.ts";
import { abortOnStopSignals } from "../stop-signals.ts";

export const fitCommand: Command = {
  name: "fit",
  summary: "train a model by hand from CSV files and write it as ONNX",
  description:
    "Trains with a strategy plugin on CSV files (or folders of them) and writes an ONNX model. Without --test, the " +
    "strategy holds out test_fraction of the rows for its metrics.\n\n" +
    "A progress bar is drawn on a terminal. Options come from the profile's defaults.strategies.NAME, then --set " +
    "(values are YAML: --set max_depth=10 --set bootstrap=false).",
  options: {
    strategy: { type: "string", value: "NAME", description: "strategy plugin (edgetrain plugins lists them)" },
    data: {
      type: "string",
      multiple: true,
      value: "PATH",
      description: "training CSV file or folder (external trainers may not need it)",
    },
    test: { type: "string", multiple: true, value: "PATH", description: "test CSV file or folder" },
    label: { type: "string", value: "COL", description: "label column (default label)" },
    task: { type: "string", value: "TASK", description: "classification or regression (default: from the labels)" },
    set: { type: "string", multiple: true, value: "KEY=VALUE", description: "a strategy option" },
    "on-bad-cell": { type: "string", value: "POLICY", description: "skip-row or fail (default fail)" },
    from: { type: "string", value: "FILE", description: "the model to warm-start from (strategies with warm_start)" },
    out: { type: "string", value: "FILE", description: "where to write the model (default model.onnx)" },
    json: {
      type: "boolean",
      description: "print the result as one JSON line: fit_seconds, rows, features, accuracy/f1 or rmse/r2…",
    },
    profile: { ...homeOptions.profile, description: "profile for defaults, workers, memory limit and plugins" },
    home: homeOptions.home,
  },
  examples: [
    "edgetrain fit --strategy random-forest --data train.csv --test test.csv --out model.onnx",
    "edgetrain fit --strategy incremental-nn --data sessions/ --set epochs=20 --json",
  ],
  async run(args, io) {
    const strategyName = stringFlag(args, "strategy");
    const dataPaths = listFlag(args, "data");
    if (!strategyName)
      throw new EdgetrainError("usage", "edgetrain fit: --strategy NAME is required", {
        hint: "edgetrain plugins lists the strategies",
      });
    const onBadCell = stringFlag(args, "on-bad-cell") ?? "fail";
    if (onBadCell !== "fail" && onBadCell !== "skip-row")
      throw new EdgetrainError("usage", `--on-bad-cell ${onBadCell}: expected skip-row or fail`);
    const task = stringFlag(args, "task");
    if (task !== undefined && task !== "classification" && task !== "regression")
      throw new EdgetrainError("usage", `--task ${task}: expected classification or regression`);

    const { loaded, paths } = loadValidHomeProfile(args, io);
    const profile = loaded.profile;
    // Checked before anything is recorded or created, so a typo leaves no run behind; the runner starts it.
    const host = { plugins: await loadPlugins(paths.plugins), defaults: profile?.defaults.strategies };
    const options = { ...parseSets(args), ...(task ? { task } : {}) };
    const { plugin, result: parsed } = checkStrategy(strategyName, options, host);
    if (!parsed.success)
      throw new EdgetrainError("bad_input", optionProblem(parsed.issues[0]!, plugin.schema, strategyName));

    const from = stringFlag(args, "from");
    if (from !== undefined) checkWarmStart(from, strategyName, parsed.output as Record<string, unknown>);

    const label = stringFlag(args, "label") ?? "label";
    const choice = { label, onBadCell: onBadCell as "fail" | "skip-row" } as const;
    const trainFiles = dataPaths.flatMap((path) => csvFilesIn(resolve(path)));
    const testFiles = listFlag(args, "test").flatMap((path) => csvFilesIn(resolve(path)));
    const out = resolve(stringFlag(args, "out") ?? "model.onnx");
    refuseOutOverInput(out, [...trainFiles, ...testFiles]);
    const loadData = async (): Promise<TrainingData> => {
      if (trainFiles.length === 0)
        throw new EdgetrainError("bad_input", `strategy ${strategyName} reads training data: give --data PATH`);
      const train = await readCsvTable(trainFiles, choice);
      const test = testFiles.length
        ? await readCsvTable(testFiles, { ...choice, features: train.featureNames })
        : undefined;
      return {
        train: tableOf(train),
        test: test && tableOf(test),
        summary: {
          files: trainFiles,
          testFiles,
          rows: train.labels.length,
          testRows: test?.labels.length ?? 0,
          excludedColumns: train.excludedColumns,
          skipped: [...train.skipped, ...(test?.skipped ?? [])],
        },
      };
    };

    const logs = new LogSink({
      level: "warn",
      console: {
        write: (text) => io.stderr.write(text),
        isTTY: io.stderr.isTTY,
        color: io.color,
        journal: io.stderr.journal,
      },
    });
    // With a home (after `edgetrain setup`), the run is recorded in its state and keeps its folder under runs/;
    // without one, fit is a one-shot tool that leaves nothing behind but the model.
    const state = profile && existsSync(paths.home) ? openHomeStateAt(paths) : undefined;
    const runId = RunRecorder.newId();
    const runDir = state ? join(paths.home, "runs", runId) : mkdtempSync(join(tmpdir(), "edgetrain-fit-"));
    mkdirSync(runDir, { recursive: true });
    const recorder = state
      ? new RunRecorder(state, {
          id: runId,
          job: "fit",
          strategy: strategyName,
          trigger: "manual: edgetrain fit",
          runDir,
        })
      : undefined;
    const bar = progressBar(io.stderr, strategyName);
    const progress = recorder ? recorder.progress(bar) : bar;
    const abort = new AbortController();
    const stopListening = abortOnStopSignals(abort, (signal) => `interrupted (${signal})`);
    try {
      let summary: TrainingData["summary"] | undefined;
      let loadSeconds = 0;
      const started = performance.now();
      const result = await runStrategy({
        strategy: strategyName,
        options,
        scope: { ...host, logger: logs.logger({ strategy: strategyName }), paths, events: recorder?.events() },
        job: "fit",
        runDir,
        loadData: async () => {
          const began = performance.now();
          const data = await loadData();
          loadSeconds += (performance.now() - began) / 1000;
          summary = data.summary;
          return data;
        },
        workers: profile?.governor.workers,
        memoryLimitMb: profile?.governor.memory_limit_mb,
        previousArtifact: from && resolve(from),
        signal: abort.signal,
        progress,
        onProcess: state && ((worker, pid) => recordRunProcess(state, runId, worker, pid)),
      });
      // Like scikit-learn's fit time, fit_seconds leaves out reading the CSV files (load_seconds).
      const fitSeconds = (performance.now() - started) / 1000 - loadSeconds;
      recorder?.succeeded(result);
      bar.finish();
      writeAtomically(out, readFileSync(result.artifact));
      const report = {
        ...(recorder ? { run: recorder.id } : {}),
        strategy: strategyName,
        out,
        fit_seconds: Number(fitSeconds.toFixed(3)),
        load_seconds: Number(loadSeconds.toFixed(3)),
        rows: summary?.rows ?? 0,
        test_rows: (result.metadata?.test_rows as number | undefined) ?? summary?.testRows ?? 0,
        features: ((result.metadata?.feature_names as string[] | undefined) ?? []).length,
        ...result.metrics,
        excluded_columns: summary?.excludedColumns ?? [],
        skipped_rows: summary?.skipped.length ?? 0,
      };
      if (args.values.json) writeJson(io, report);
      else {
        const metrics = Object.entries(result.metrics)
          .map(([name, value]) => `${name} ${value.toFixed(4)}`)
          .join(", ");
        io.stdout.write(
          `trained ${strategyName} on ${report.rows} rows × ${report.features} features in ` +
            `${report.fit_seconds.toFixed(2)} s${metrics ? `; test: ${metrics}` : ""}\nwrote ${out}\n`,
        );
        if (report.excluded_columns.length)
          io.stdout.write(`left out non-numeric columns: ${report.excluded_columns.join(", ")}\n`);
        if (summary?.skipped.length)
          io.stdout.write(`skipped ${summary.skipped.length} row(s), first: ${summary.skipped[0]}\n`);
        if (recorder) io.stdout.write(`run ${recorder.id} recorded; its folder: ${runDir}\n`);
      }
      return 0;
    } catch (error) {
      bar.finish();
      recorder?.failed(error, abort.signal.aborted);
      if (error instanceof EdgetrainError) throw error;
      throw new EdgetrainError("run_failed", `fit failed: ${(error as Error).message}`);
    } finally {
      stopListening();
      await recorder?.written();
      if (!state) rmSync(runDir, { recursive: true, force: true });
      state?.close();
      logs.close();
    }
  },
};

/** The strategy and its options checked by the plugin host; an unknown name is bad input here, as any flag. */
function checkStrategy(
  name: string,
  options: Record<string, unknown>,
  scope: Pick<PluginScope, "plugins" | "defaults">,
) {
  try {
    return checkOptions("strategy", name, options, scope);
  } catch (error) {
    if (error instanceof EdgetrainError) throw new EdgetrainError("bad_input", `${error.message}; ${error.hint}`);
    throw error;
  }
}

/** --from is a model to start from: it must exist, and the strategy must be one that starts from a model. */
function checkWarmStart(from: string, strategy: string, options: Record<string, unknown>): void {
  if (!("warm_start" in options))
    throw new EdgetrainError("usage", `--from ${from}: strategy ${strategy} does not start from a model`, {
      hint: "--from applies to strategies with a warm_start option, such as incremental-nn",
    });
  if (!statSync(from, { throwIfNoEntry: false })?.isFile())
    throw new EdgetrainError("usage", `--from ${from}: no such model file`);
}

/**
 * --out naming one of the CSV files read would replace the training data with the model. Compared by device and
 * inode, so a symlink, a `..` or a hard link to the same file is caught too.
 */
function refuseOutOverInput(out: string, inputs: readonly string[]): void {
  const target = statSync(out, { throwIfNoEntry: false });
  if (!target) return;
  const same = inputs.find((file) => {
    const input = statSync(file, { throwIfNoEntry: false });
    return input !== undefined && input.dev === target.dev && input.ino === target.ino;
  });
  if (same !== undefined)
    throw new EdgetrainError("usage", `--out ${out} is the input ${same}: the model would overwrite it`, {
      hint: "write the model elsewhere, e.g. --out model.onnx",
    });
}

/** `--set a=1 --set b=true` → { a: 1, b: true }; values are YAML scalars or flow collections. */
function parseSets(args: ParsedArgs): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const pair of listFlag(args, "set")) {
    const equals = pair.indexOf("=");
    if (equals <= 0) throw new EdgetrainError("bad_input", `--set ${pair}: expected key=value`);
    const key = pair.slice(0, equals).trim();
    const text = pair.slice(equals + 1);
    try {
      out[key] = text === "" ? "" : parseYaml(text);
    } catch {
      throw new EdgetrainError("bad_input", `--set ${pair}: the value is not valid YAML`);
    }
  }
  return out;
}

function optionProblem(issue: v.BaseIssue<unknown>, schema: unknown, strategy: string): string {
  const key = issue.path?.map((item) => item.key).join(".") ?? "";
  if (issue.type === "strict_object" && issue.expected === "never") {
    const known = allowedKeysAt(schema, []);
    return `--set ${key}: ${strategy} has no option "${key}"${suggestion(key, known)}; options: ${known.join(", ")}`;
  }
  const expected = issue.kind === "validation" && !issue.message.startsWith("Invalid") ? issue.message : issue.expected;
  return `--set ${key}: expected ${expected}, got ${issue.received}`;
}
