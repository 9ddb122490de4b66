import { type Deployment, deploymentText } from "../../deploy/deployment.ts";
import { listRuns, runDeployments } from "../../state/runs.ts";
import { type Command, limitFlag, stringFlag } from "../command.ts";
import { homeOptions, openHomeState } from "../home.ts";
import { writeJson } from "../json-answer.ts";
import { metricsText, writeTable } from "../table.ts";

/** A run's metrics, and what became of its model unless it serves as it should. */
function outcomeText(metrics: string, deployment: Deployment | undefined): string {
  if (!deployment || deployment.status === "activated") return metrics;
  return `${metrics}${metrics ? "; " : ""}${deploymentText(deployment)}`;
}

export const runsCommand: Command = {
  name: "runs",
  summary: "list runs: status, duration, trigger and outcome",
  description:
    "Lists the latest runs recorded in the home's state, newest first: status, trigger, start, duration (or " +
    "progress) and outcome.",
  options: {
    job: { type: "string", value: "JOB", description: "only the runs of this job" },
    limit: { type: "string", value: "N", description: "at most N runs (default 20)" },
    json: { type: "boolean", description: "print a JSON array of runs" },
    ...homeOptions,
  },
  examples: ["edgetrain runs", "edgetrain runs --job activity --limit 5 --json"],
  async run(args, io) {
    const limit = limitFlag(args, 20);
    const state = openHomeState(args, io);
    try {
      const job = stringFlag(args, "job");
      const rows = listRuns(state.db, { job, limit });
      if (args.values.json) {
        writeJson(io, rows);
        return 0;
      }
      if (rows.length === 0) {
        io.stdout.write(job ? `no runs of job ${job} yet\n` : "no runs yet\n");
        return 0;
      }
      const deployments = runDeployments(
        state.db,
        rows.map((row) => row.id),
      );
      const table = [
        ["RUN", "JOB", "KEY", "STATUS", "TRIGGER", "STARTED", "TOOK", "OUTCOME"],
        ...rows.map((row) => [
          row.id,
          row.job,
          row.key ?? "-",
          row.status,
          row.trigger,
          row.started_at ? new Date(row.started_at).toISOString().replace("T", " ").slice(0, 19) : "-",
          row.started_at && row.ended_at
            ? `${((row.ended_at - row.started_at) / 1000).toFixed(1)}s`
            : row.progress !== null
              ? `${Math.round(row.progress * 100)}%`
              : "-",
          row.error ?? outcomeText(metricsText(row.metrics), deployments.get(row.id)),
        ]),
      ];
      writeTable(io.stdout, table);
      return 0;
    } finally {
      state.close();
    }
  },
};
