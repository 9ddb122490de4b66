import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";

const HOUR = 3_600_000;
const START = Date.parse("2026-11-01T00:00:00Z");

/** 20 days of hourly players and CPU: 30 players by day, 5 at night 02–05; then `extra` lines. */
function usageCsv(extra: string[] = []): string {
  const lines = ["timestamp,players,cpu"];
  for (let at = START; at < START + 480 * HOUR; at += HOUR) {
    const hour = new Date(at).getUTCHours();
    lines.push(`${new Date(at).toISOString()},${hour >= 2 && hour < 5 ? 5 : 30},10`);
  }
  return `${[...lines, ...extra].join("\n")}\n`;
}

/** Lines 482–485: a time that is none, a count that is none, a row short of its CPU, one with a field too many. */
const BAD_ROWS = [
  "not-a-time,5,3",
  "2026-12-01T00:00:00Z,abc,3",
  "2026-12-01T01:00:00Z,4",
  "2026-12-01T02:00:00Z,4,9,9",
];
const SKIPPED_NOTE =
  'csv usage.csv: 4 unreadable row(s) left out: usage.csv line 482: column timestamp is not a time: "not-a-time"; ' +
  'usage.csv line 483: column players is not a number: "abc"; usage.csv line 484: column cpu is empty; …';

interface Plan {
  offpeak: { points: number; trusted: boolean; note?: string; windows: Array<{ label: string }> };
}

type Dir = { path: string; write(name: string, text: string): string };

async function plan(dir: Dir, usage: string) {
  const home = join(dir.path, "home");
  const file = dir.write(
    "profile.yaml",
    `paths:\n  home: ${home}\nusage:\n  timezone: UTC\n  history_days: 36500\n${usage}`,
  );
  const answer = await runCli(["plan", "--json", "--profile", file], { home: dir.path });
  if (answer.code !== 0) throw new Error(answer.stderr);
  return JSON.parse(answer.stdout) as Plan;
}

describe("a usage CSV", () => {
  test("is read relative to paths.data, in both forms of the usage section", async () => {
    await using dir = tempDir();
    dir.write("home/data/usage.csv", usageCsv());
    for (const usage of [
      "  source: csv\n  csv: { path: usage.csv }\n",
      "  sources: [{ type: csv, path: usage.csv }]\n",
    ]) {
      const { offpeak } = await plan(dir, usage);
      expect(offpeak.points).toBe(480);
      expect(offpeak.note).toBeUndefined();
    }
  });

  test("left in the home is named with both places and the path that reaches it", async () => {
    await using dir = tempDir();
    dir.write("home/usage.csv", usageCsv());
    const home = join(dir.path, "home");
    const { offpeak } = await plan(dir, "  source: csv\n  csv: { path: usage.csv }\n");
    expect(offpeak.points).toBe(0);
    expect(offpeak.note).toBe(
      `usage history could not be read: usage CSV usage.csv is not at ${home}/data/usage.csv (its path is ` +
        `relative to paths.data) but at ${home}/usage.csv: move it, or write path: ../usage.csv`,
    );
    const several = await plan(dir, "  sources: [{ type: csv, path: usage.csv }]\n");
    expect(several.offpeak.note).toContain(`is not at ${home}/data/usage.csv`);
  });

  test("rows that cannot be read are counted and the first named by line, in plan's note and text", async () => {
    await using dir = tempDir();
    dir.write("home/data/usage.csv", usageCsv(BAD_ROWS));
    const { offpeak } = await plan(dir, "  source: csv\n  csv: { path: usage.csv }\n");
    expect(offpeak.points).toBe(480);
    expect(offpeak.windows.length).toBeGreaterThan(0);
    expect(offpeak.note).toBe(SKIPPED_NOTE);
    const text = await runCli(["plan", "--profile", join(dir.path, "profile.yaml")], { home: dir.path });
    expect(text.stdout).toContain(`note: ${SKIPPED_NOTE}\n`);
  });

  test("the daemon's offpeak.learned event and log name them too", async () => {
    await using dir = tempDir();
    dir.write("data/usage.csv", usageCsv(BAD_ROWS));
    const profile = dir.write(
      "profile.yaml",
      `paths:\n  home: ${dir.path}\nusage:\n  source: csv\n  csv: { path: usage.csv }\n  timezone: UTC\n  ` +
        "history_days: 36500\n",
    );
    const { proc } = await startDaemonProcess(dir.path, ["--home", dir.path, "--headless", "--profile", profile]);
    try {
      const log = () => readFileSync(join(dir.path, "logs/edgetrain.log"), "utf8");
      await waitUntil(() => log().includes("offpeak learned"));
      const line = log()
        .split("\n")
        .find((entry) => entry.includes("offpeak learned"))!;
      expect(JSON.parse(line)).toMatchObject({ level: "info", points: 480, note: SKIPPED_NOTE });
    } finally {
      proc.kill("SIGTERM");
    }
    expect(await proc.exited).toBe(0);
    const state = new Database(join(dir.path, "state/edgetrain.db"), { readonly: true });
    const event = state.query<{ data: string }, []>("SELECT data FROM events WHERE type = 'offpeak.learned'").get();
    state.close();
    expect(JSON.parse(event!.data)).toMatchObject({ points: 480, note: SKIPPED_NOTE });
  }, 30_000);
});
