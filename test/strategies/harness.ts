import { readdirSync } from "node:fs";
import { readCsvTable } from "../../runtime/data/csv-table.ts";
import { tableOf } from "../../runtime/data/load-training-data.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { PluginModule, TrainResult } from "../../runtime/plugin-api.ts";
import { registryOf } from "../../runtime/plugins/registry.ts";
import { runStrategy } from "../../runtime/training/run-strategy.ts";
import { pathsIn } from "../helpers.ts";

export interface InProcessRun {
  result?: TrainResult;
  error?: Error;
  progress: Array<{ done: number; total: number; message?: string }>;
  checkpoints: number;
  runDirFiles: string[];
}

/** Runs a strategy plugin through the host's runner on CSV files, recording progress and checkpoints. */
export async function trainInProcess(
  plugin: PluginModule<"strategy">,
  options: Record<string, unknown>,
  files: { train: string[]; test?: string[] },
  runDir: string,
  control: { abortAfterCheckpoints?: number } = {},
): Promise<InProcessRun> {
  const run: InProcessRun = { progress: [], checkpoints: 0, runDirFiles: [] };
  const abort = new AbortController();
  try {
    run.result = await runStrategy({
      strategy: plugin.name,
      options,
      scope: { plugins: registryOf([plugin], "test"), logger: silentLogger, paths: pathsIn(runDir) },
      job: "test",
      runDir,
      signal: abort.signal,
      progress: { update: (done, total, message) => void run.progress.push({ done, total, message }) },
      loadData: async () => {
        const train = await readCsvTable(files.train, { label: "label", onBadCell: "fail" });
        const test = files.test
          ? await readCsvTable(files.test, { label: "label", onBadCell: "fail", features: train.featureNames })
          : undefined;
        return {
          train: tableOf(train),
          test: test && tableOf(test),
          summary: {
            files: files.train,
            testFiles: files.test ?? [],
            rows: train.labels.length,
            testRows: test?.labels.length ?? 0,
            excludedColumns: train.excludedColumns,
            skipped: [],
          },
        };
      },
      onCheckpoint: () => {
        run.checkpoints++;
        if (control.abortAfterCheckpoints !== undefined && run.checkpoints > control.abortAfterCheckpoints)
          abort.abort("cancelled by test");
      },
    });
  } catch (error) {
    run.error = error as Error;
  }
  run.runDirFiles = readdirSync(runDir).sort();
  return run;
}
