import { readdirSync } from "node:fs";
import * as v from "valibot";
import { readCsvTable } from "../../runtime/data/csv-table.ts";
import { tableOf } from "../../runtime/data/load-training-data.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { PluginModule, StrategyHooks, TrainResult } from "../../runtime/plugin-api.ts";
import { pluginContext } from "../../runtime/plugins/context.ts";
import { pluginLibraries } from "../../runtime/plugins/registry.ts";
import { makeCheckpoint } from "../../runtime/training/checkpoint.ts";
import { PauseSwitch } from "../../runtime/training/pause-switch.ts";
import { ThreadAllowance } from "../../runtime/training/thread-allowance.ts";
import { pathsIn } from "../helpers.ts";

export interface InProcessRun {
  result?: TrainResult;
  error?: Error;
  progress: Array<{ done: number; total: number; message?: string }>;
  checkpoints: number;
  runDirFiles: string[];
}

/** Runs a strategy plugin the way the host does, on CSV files, recording progress and checkpoints. */
export async function trainInProcess(plugin: PluginModule, options: Record<string, unknown>, files: { train: string[]; test?: string[] }, runDir: string, control: { abortAfterCheckpoints?: number } = {}): Promise<InProcessRun> {
  const parsed = v.parse(plugin.options(pluginLibraries), options);
  const progress: InProcessRun["progress"] = [];
  const abort = new AbortController();
  const reporter = { update: (done: number, total: number, message?: string) => void progress.push({ done, total, message }) };
  const context = pluginContext({ options: parsed, logger: silentLogger, paths: pathsIn(runDir), signal: abort.signal, progress: reporter });
  const hooks = (await plugin.setup(context as never)) as StrategyHooks;
  const checkpoint = makeCheckpoint({ signal: abort.signal });
  let checkpoints = 0;
  const run: InProcessRun = { progress, checkpoints: 0, runDirFiles: [] };
  try {
    run.result = await hooks.train({
      job: "test",
      runDir,
      signal: abort.signal,
      progress: reporter,
      pause: new PauseSwitch(),
      threads: new ThreadAllowance(),
      loadData: async () => {
        const train = await readCsvTable(files.train, { label: "label", onBadCell: "fail" });
        const test = files.test ? await readCsvTable(files.test, { label: "label", onBadCell: "fail", features: train.featureNames }) : undefined;
        return { train: tableOf(train), test: test && tableOf(test), summary: { files: files.train, testFiles: files.test ?? [], rows: train.labels.length, testRows: test?.labels.length ?? 0, excludedColumns: train.excludedColumns, skipped: [] } };
      },
      checkpoint: async () => {
        checkpoints++;
        if (control.abortAfterCheckpoints !== undefined && checkpoints > control.abortAfterCheckpoints) abort.abort("cancelled by test");
        await checkpoint();
      },
    });
  } catch (error) {
    run.error = error as Error;
  }
  run.checkpoints = checkpoints;
  run.runDirFiles = readdirSync(runDir).sort();
  return run;
}
