import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { daemonEvents } from "../../tui/connection.ts";
import { runCli, startDaemonProcess, tempDir } from "../helpers.ts";
import { HEADER, homeWithModels, rowsText } from "./fixture.ts";

test("the daemon scores new files when cron or new data fires, and sends each summary as score.summary", async () => {
  await using dir = tempDir();
  const home = await homeWithModels(
    dir,
    `  every-second:
    score: predictions
    model: activity
    data: { source: rows, path: batches, debounce: 0 }
    triggers: [{ type: cron, schedule: "* * * * * *" }]
  arrivals:
    score: predictions
    model: pace
    options: { format: jsonl }
    data: { source: rows, path: arrivals, key_from: file, debounce: 0 }
    triggers: [{ type: new-data, poll: 200ms }]
`,
  );
  const daemon = await startDaemonProcess(home, [
    "--home",
    home,
    "--headless",
    "--profile",
    join(home, "profile.yaml"),
  ]);
  try {
    const response = await fetch(`${daemon.url}/v1/events?types=score.`);
    dir.write("home/data/batches/monday.csv", `${HEADER}\n${rowsText(700, 1, false)}`);
    dir.write("home/data/arrivals/sensor-7.csv", `${HEADER}\n${rowsText(300, 2, false)}`);
    const summaries = new Map<string, Record<string, unknown>>();
    const deadline = Date.now() + 60_000;
    for await (const event of daemonEvents(response.body!)) {
      if (event.type === "score.summary") summaries.set(String(event.data.job), event.data);
      if (summaries.size === 2 || Date.now() > deadline) break;
    }
    expect(summaries.get("every-second")).toMatchObject({ model: "activity", version: 1, rows: 700 });
    expect(summaries.get("arrivals")).toMatchObject({ model: "pace", version: 1, rows: 300, key: "sensor-7" });
    const classes = summaries.get("every-second")!.classes as Record<string, number>;
    expect(Object.values(classes).reduce((a, b) => a + b, 0)).toBe(700);
    expect((summaries.get("arrivals")!.values as { count: number }).count).toBe(300);
    expect(readFileSync(join(home, "data/batches/monday.predictions.csv"), "utf8").trimEnd().split("\n")).toHaveLength(
      701,
    );
    expect(existsSync(join(home, "data/arrivals/sensor-7.predictions.jsonl"))).toBe(true);

    // Each run is recorded with what fired it; the cron job's later runs find nothing new.
    const runs = JSON.parse((await runCli(["runs", "--home", home, "--json"], { home })).stdout) as Array<{
      job: string;
      trigger: string;
      metrics: Record<string, number> | null;
    }>;
    const scored = (job: string) => runs.filter((run) => run.job === job && (run.metrics?.rows ?? 0) > 0);
    expect(scored("every-second").map((run) => run.trigger)).toEqual([
      expect.stringMatching(/^cron: cron \* \* \* \* \* \* at /),
    ]);
    expect(scored("arrivals").map((run) => run.trigger)).toEqual(["new-data: new data for sensor-7"]);
  } finally {
    daemon.proc.kill("SIGTERM");
    await daemon.proc.exited;
  }
}, 120_000);
