import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

const HOUR = 3_600_000;
const START = Date.parse("2026-11-01T00:00:00Z");

/** 20 days of hourly players: 30 by day, 5 at night 02–05. */
function usageCsv(): string {
  const lines = ["timestamp,players"];
  for (let at = START; at < START + 480 * HOUR; at += HOUR) {
    const hour = new Date(at).getUTCHours();
    lines.push(`${new Date(at).toISOString()},${hour >= 2 && hour < 5 ? 5 : 30}`);
  }
  return `${lines.join("\n")}\n`;
}

interface Plan {
  offpeak: { points: number; trusted: boolean; note?: string; windows: Array<{ label: string }> };
}

async function plan(dir: { path: string; write(name: string, text: string): string }, usage: string) {
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
});
