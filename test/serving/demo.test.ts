import { describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

describe("edgetrain demo", () => {
  test("a taken port is refused before anything is written: the home stays as it was", async () => {
    await using dir = tempDir();
    await using user = tempDir();
    using taken = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("someone else") });
    const home = join(dir.path, "demo");
    mkdirSync(home);
    const demo = await runCli(["demo", "--home", home, "--port", String(taken.port), "--once"], { home: user.path });
    expect(demo.code).toBe(5);
    expect(demo.stderr).toContain(`cannot listen on 127.0.0.1:${taken.port}`);
    expect(demo.stderr).toContain("--port 0");
    expect(readdirSync(home)).toEqual([]);
    expect(readdirSync(dir.path)).toEqual(["demo"]);
  });

  test("headless: 30 models trained and served; a fifth session retrains only its player while predictions keep " +
    "being answered", async () => {
    await using dir = tempDir();
    const home = join(dir.path, "demo");
    const demo = await runCli(["demo", "--home", home, "--port", "0", "--once"], { home: dir.path });
    expect([demo.code, demo.stderr.slice(-2000)]).toEqual([0, expect.any(String)]);
    const report = JSON.parse(demo.stdout.trim().split("\n").at(-1)!);
    expect(report).toMatchObject({
      event: "demo",
      ok: true,
      models: 30,
      unchanged: 29,
      failed: 0,
      retrained: { model: "activity-player_7", from: 1, to: 2, status: "active" },
    });
    expect(report.answered).toBeGreaterThan(0);
    expect(report.retrained.gate).toMatchObject({ metric: "accuracy", passed: true, active_version: 1 });
    for (const step of [
      "writing 30 players × 4 sessions",
      "30/30 models serving",
      "dropped session TR5 for player_7",
      "29 of 29 other models untouched",
    ])
      expect(demo.stderr).toContain(step);
    expect(demo.stderr).toMatch(
      /activity-player_7: version 1 → 2; gate passed: accuracy [\d.]+ vs [\d.]+ of version 1 on \d+ held-out rows/,
    );

    // Afterwards, without a daemon: the store is readable and versions can be switched from the CLI.
    const models = await runCli(["models", "--home", home, "--json"], { home: dir.path });
    const list = JSON.parse(models.stdout) as Array<{ model: string; active: number }>;
    expect(list).toHaveLength(30);
    expect(list.find((m) => m.model === "activity-player_7")!.active).toBe(2);
    const versions = await runCli(["model", "activity-player_7", "--home", home], { home: dir.path });
    expect(versions.stdout).toMatch(
      /2\s+active\s+.*passed: accuracy [\d.]+ vs [\d.]+ of version 1 on \d+ held-out rows/,
    );
    expect(versions.stdout).toMatch(/1\s+retired/);
    const back = await runCli(["rollback", "activity-player_7", "--home", home], { home: dir.path });
    expect([back.code, back.stdout]).toEqual([0, "activity-player_7: rolled back; version 1 serving\n"]);
    const forward = await runCli(["activate", "activity-player_7", "2", "--home", home], { home: dir.path });
    expect([forward.code, forward.stdout]).toEqual([0, "activity-player_7: version 2 serving\n"]);
    const missing = await runCli(["activate", "activity-player_7", "9", "--home", home], { home: dir.path });
    expect([missing.code, missing.stderr]).toEqual([
      1,
      expect.stringContaining("model activity-player_7 has no version 9"),
    ]);
    const typo = await runCli(["rollback", "activity-player7", "--home", home], { home: dir.path });
    expect([typo.code, typo.stderr]).toEqual([
      1,
      expect.stringContaining('no model "activity-player7" (did you mean "activity-player_7"?)'),
    ]);

    // The demo's home is found by --home alone (its demo-profile.yaml), and its disk cache is kept.
    const plan = await runCli(["plan", "--home", home, "--json"], { home: dir.path });
    expect(plan.stdout).toContain('"activity"');
    const stats = async () => {
      const result = await runCli(["cache", "stats", "--home", home, "--json"], { home: dir.path });
      expect(result.code).toBe(0);
      return JSON.parse(result.stdout) as { type: string; entries: number; daemon: boolean };
    };
    const filesOf = (model: string) => [
      ...new Bun.Glob(`${model}/*/*.json`).scanSync(join(home, "cache", "predictions")),
    ];
    const before = await stats();
    expect(before).toMatchObject({ type: "tiered", daemon: false });
    expect(before.entries).toBeGreaterThan(0);
    expect(before.entries).toBe(filesOf("*").length);
    expect(filesOf("activity-player_7").length).toBeGreaterThan(0);
    const misspelled = await runCli(["cache", "clear", "activity-player7", "--home", home], { home: dir.path });
    expect([misspelled.code, misspelled.stderr]).toEqual([
      1,
      expect.stringContaining('did you mean "activity-player_7"?'),
    ]);
    expect((await stats()).entries).toBe(before.entries);
    const cleared = await runCli(["cache", "clear", "activity-player_7", "--home", home], { home: dir.path });
    expect([cleared.code, cleared.stdout]).toEqual([0, "cleared the cache of activity-player_7\n"]);
    expect(filesOf("activity-player_7")).toEqual([]);
    expect((await stats()).entries).toBe(filesOf("*").length);
    await runCli(["cache", "clear", "--home", home], { home: dir.path });
    expect((await stats()).entries).toBe(0);
  }, 180_000);
});
