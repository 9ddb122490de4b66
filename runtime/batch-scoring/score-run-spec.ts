import type { BadCellPolicy } from "../data/csv-table.ts";
import type { ResolvedPaths } from "../plugin-api.ts";
import type { ScoringRuntime } from "../scoring/scoring-protocol.ts";
import type { ScoreSummary } from "./score-summary.ts";

/** Everything the training thread needs to run one score run; plain data, copied into the thread. */
export interface ScoreRunSpec {
  /** `built-in` or the file the plugin was loaded from: the thread imports it again. */
  plugin: { name: string; source: string };
  /** As the job wrote them; the thread's instantiate() parses them. */
  options: Record<string, unknown>;
  paths: ResolvedPaths;
  /** The state database file; the plugin's store opens its own connection to it. */
  stateFile: string;
  storeName: string;
  job: string;
  key?: string;
  runDir: string;
  /** The active version when the run started, as the store describes it; the thread reads the rest from the file. */
  model: {
    name: string;
    version: number;
    path: string;
    task?: "classification" | "regression";
    featureNames?: string[];
    classes?: string[];
  };
  /** The data files to score. */
  files: string[];
  onBadCell: BadCellPolicy;
  /** Rows read and predicted at a time. */
  batchRows: number;
  /** ONNX Runtime's backend, threads and the run's scheduling class. */
  runtime: ScoringRuntime;
  memoryLimitMb?: number;
  paused: boolean;
  /** Threads the run may use when it starts (see ThreadAllowance); undefined: all. */
  threads?: number;
}

/** What the thread sends back from a score run. */
export interface ScoreOutcome {
  summary: ScoreSummary;
}
