import { type Command, limitFlag, stringFlag } from "../command.ts";
import { homeOptions, openHomeState } from "../home.ts";
import { writeJson } from "../json-answer.ts";

export const decisionsCommand: Command = {
  name: "decisions",
  summary: "what the scheduler and governor decided, and why: fired, deferred, skipped, paused…",
  description:
    "Lists the recorded decisions, newest first: triggers fired, runs deferred (and why), skipped (and why), " +
    "started, interrupted; conflicts met, asked, answered, forced; governor pauses and resumes.",
  options: {
    job: { type: "string", value: "JOB", description: "only the decisions about this job" },
    limit: { type: "string", value: "N", description: "at most N decisions (default 30)" },
    json: { type: "boolean", description: "print a JSON array of {at, type, …data}" },
    ...homeOptions,
  },
  examples: ["edgetrain decisions", "edgetrain decisions --job activity --limit 100 --json"],
  async run(args, io) {
    const limit = limitFlag(args, 30);
    const job = stringFlag(args, "job");
    const state = openHomeState(args, io);
    try {
      const rows = state.db
        .query<{ at: number; type: string; data: string }, [string | null, string | null, number]>(
          "SELECT at, type, data FROM events WHERE (? IS NULL OR json_extract(data, '$.job') = ?) ORDER BY id DESC " +
            "LIMIT ?",
        )
        .all(job ?? null, job ?? null, limit)
        .map((row) => ({
          at: new Date(row.at).toISOString(),
          type: row.type,
          ...(JSON.parse(row.data) as Record<string, unknown>),
        }));
      if (args.values.json) {
        writeJson(io, rows);
        return 0;
      }
      for (const { at, type, ...data } of rows) {
        const { job: name, key, reason, ...rest } = data as { job?: string; key?: string; reason?: string };
        const extra = Object.keys(rest).length ? `  ${JSON.stringify(rest)}` : "";
        io.stdout.write(
          `${at.replace("T", " ").slice(0, 19)}  ${type.padEnd(22)}  ` +
            `${name ?? ""}${key ? `/${key}` : ""}${reason ? `  ${reason}` : ""}${extra}\n`,
        );
      }
      if (rows.length === 0) io.stdout.write("no decisions recorded yet\n");
      return 0;
    } finally {
      state.close();
    }
  },
};
