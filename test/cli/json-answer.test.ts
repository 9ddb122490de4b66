import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { jsonAnswer } from "../../runtime/cli/json-answer.ts";
import { openState } from "../../runtime/state/database.ts";
import { tempDir } from "../helpers.ts";
import { runMain } from "./capture.ts";

/** Every key at every depth, except inside the maps named by users. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value === null || typeof value !== "object") return [];
  return Object.entries(value).flatMap(([key, field]) => [
    key,
    ...(key === "metrics" || key === "options" ? [] : keysOf(field)),
  ]);
}

describe("one casing and one time format in the CLI's JSON", () => {
  test("field names become snake_case at every depth; times in milliseconds become ISO 8601", () => {
    const at = Date.UTC(2026, 3, 12, 3, 15);
    expect(
      jsonAnswer({
        governor: { readings: { at, cpuPercent: 12.5, temperatureC: 40, load1: 0.5 } },
        lines: [{ name: "memory", data: { totalMb: 4096, availableMb: 1024 } }],
        latest_runs: [{ started_at: at, ended_at: null, activated_at: "2026-04-12T03:15:00.000Z" }],
      }),
    ).toEqual({
      governor: { readings: { at: "2026-04-12T03:15:00.000Z", cpu_percent: 12.5, temperature_c: 40, load1: 0.5 } },
      lines: [{ name: "memory", data: { total_mb: 4096, available_mb: 1024 } }],
      latest_runs: [
        { started_at: "2026-04-12T03:15:00.000Z", ended_at: null, activated_at: "2026-04-12T03:15:00.000Z" },
      ],
    });
  });

  test("names chosen by people or plugins (metrics, plugin options) are kept as they are", () => {
    const version = { metrics: { meanError: 0.1 }, options: { maxDepth: 4, nested: { keepMe: 1 } }, testRows: 60 };
    expect(jsonAnswer(version)).toEqual({
      metrics: { meanError: 0.1 },
      options: { maxDepth: 4, nested: { keepMe: 1 } },
      test_rows: 60,
    });
  });

  test("runs --json prints its times in ISO 8601 and every key in snake_case", async () => {
    await using dir = tempDir();
    const home = join(dir.path, "home");
    dir.write("home/profile.yaml", `paths:\n  home: ${home}\n`);
    const state = openState(join(home, "state"));
    const started = Date.UTC(2026, 3, 12, 3, 15);
    state.db
      .query(
        "INSERT INTO runs (id, job, key, strategy, trigger, status, created_at, started_at, ended_at, details) " +
          "VALUES ('run-1', 'activity', 'player_1', 'random-forest', 'cron', 'succeeded', ?, ?, ?, '{}')",
      )
      .run(started, started, started + 1500);
    state.close();
    const { code, stdout } = await runMain(["runs", "--home", home, "--json"], { home: dir.path });
    expect(code).toBe(0);
    const [run] = JSON.parse(stdout) as Array<Record<string, unknown>>;
    expect(run).toMatchObject({
      id: "run-1",
      created_at: "2026-04-12T03:15:00.000Z",
      started_at: "2026-04-12T03:15:00.000Z",
      ended_at: "2026-04-12T03:15:01.500Z",
    });
    for (const key of keysOf(JSON.parse(stdout))) expect(key).toMatch(/^[a-z0-9_]+$/);
  });
});
