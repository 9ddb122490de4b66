import { describe, expect, test } from "bun:test";
import { runCli, startDaemonProcess, tempDir } from "../helpers.ts";
import { metadataOf, servingStack, trainedModels } from "../serving/fixture.ts";

const rowsOf = (table: { x: Float32Array; rows: number; featureNames: string[] }, count: number) =>
  Array.from({ length: count }, (_, row) =>
    Array.from(table.x.subarray(row * table.featureNames.length, (row + 1) * table.featureNames.length)),
  );

/** A home with one serving model, a disk cache and a pregenerate file of two lines for it. */
async function homeWithModel(dir: { path: string; write(relative: string, text: string): string }) {
  const models = await trainedModels(dir.path);
  const cache = { type: "disk", pregenerate: { file: "pregenerate.jsonl", top: 0 } };
  const stack = await servingStack(dir.path, { cache });
  const v1 = await stack.store.addVersion("activity-player_1", models.good.artifact, metadataOf(models.good));
  await stack.activator.activate("activity-player_1", v1.version, "test");
  await stack.close();
  const rows = rowsOf(models.heldOut, 2);
  dir.write(
    "pregenerate.jsonl",
    rows.map((row) => JSON.stringify({ model: "activity-player_1", inputs: [row] })).join("\n"),
  );
  const profile = dir.write(
    "profile.yaml",
    `paths:\n  home: ${dir.path}\ncache: { type: disk, pregenerate: { file: pregenerate.jsonl, top: 0 } }\n`,
  );
  return { profile, rows };
}

describe("edgetrain cache warm", () => {
  test("without a daemon: the pregenerate file's predictions go into the disk cache; an unknown model is " +
    "refused", async () => {
    await using dir = tempDir();
    const { profile } = await homeWithModel(dir);
    const cli = (args: string[]) => runCli([...args, "--home", dir.path, "--profile", profile], { home: dir.path });
    const warm = await cli(["cache", "warm", "--json"]);
    expect(warm.code).toBe(0);
    expect(JSON.parse(warm.stdout)).toEqual({ warmed: [{ model: "activity-player_1", entries: 2 }], daemon: false });
    const stats = JSON.parse((await cli(["cache", "stats", "--json"])).stdout) as { entries: number };
    expect(stats.entries).toBe(2);
    const unknown = await cli(["cache", "warm", "activity-player_9"]);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toContain('no model "activity-player_9" serves');
  }, 60_000);

  test("with a daemon: through its API, into the cache it serves from", async () => {
    await using dir = tempDir();
    const { profile, rows } = await homeWithModel(dir);
    const daemon = await startDaemonProcess(dir.path, ["--home", dir.path, "--headless", "--profile", profile]);
    try {
      const warm = await runCli(["cache", "warm", "activity-player_1", "--home", dir.path, "--profile", profile], {
        home: dir.path,
      });
      expect([warm.code, warm.stdout]).toEqual([0, "activity-player_1: 2 pregenerated\n"]);
      const answer = (await (
        await fetch(`${daemon.url}/v1/predict/activity-player_1`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ inputs: [rows[1]] }),
        })
      ).json()) as { cached: boolean };
      expect(answer.cached).toBe(true);
      const json = await runCli(["cache", "warm", "--json", "--home", dir.path, "--profile", profile], {
        home: dir.path,
      });
      expect(JSON.parse(json.stdout)).toEqual({ warmed: [{ model: "activity-player_1", entries: 2 }], daemon: true });
    } finally {
      daemon.proc.kill("SIGTERM");
      await daemon.proc.exited;
    }
  }, 60_000);
});
