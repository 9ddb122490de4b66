import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { naturalOrder } from "../../runtime/natural-order.ts";
import { runCli, startDaemonProcess, tempDir } from "../helpers.ts";
import { runMain } from "./capture.ts";

const session = (shift: number) =>
  "hr,speed,label\n" +
  Array.from(
    { length: 40 },
    (_, i) => `${(i % 10) * 10 + shift},${(i % 5) + shift / 10},${i % 10 < 5 ? "walk" : "run"}`,
  ).join("\n") +
  "\n";

describe("models in natural order", () => {
  test("numbers in names compare as numbers", () => {
    expect(["player_10", "player_2", "player_1", "player_11", "coach"].toSorted(naturalOrder)).toEqual([
      "coach",
      "player_1",
      "player_2",
      "player_10",
      "player_11",
    ]);
    expect(["activity-player_10", "activity-player_9", "activity-player_100"].toSorted(naturalOrder)).toEqual([
      "activity-player_9",
      "activity-player_10",
      "activity-player_100",
    ]);
  });

  test("train, models and the API list player_2 before player_10, in text and in JSON", async () => {
    await using dir = tempDir();
    const home = join(dir.path, "home");
    for (const player of ["player_1", "player_10", "player_2"])
      for (let n = 1; n <= 3; n++) dir.write(`home/data/athletes/${player}/TR${n}_x.csv`, session(n));
    dir.write(
      "home/profile.yaml",
      `paths:\n  home: ${home}\njobs:\n  activity:\n    strategy: random-forest\n    options: { n_estimators: 3 }\n  ` +
        `  data: { source: sessions, path: athletes, sessions_to_use: 2, debounce: 0 }\n    triggers: [{ type: ` +
        `manual }]\n`,
    );
    const train = await runCli(["train", "activity", "--home", home, "--force", "--json"], { home: dir.path });
    expect(train.code).toBe(0);
    expect((JSON.parse(train.stdout) as { runs: Array<{ key: string }> }).runs.map((run) => run.key)).toEqual([
      "player_1",
      "player_2",
      "player_10",
    ]);

    const json = await runMain(["models", "--home", home, "--json"], { home: dir.path });
    expect((JSON.parse(json.stdout) as Array<{ model: string }>).map((model) => model.model)).toEqual([
      "activity-player_1",
      "activity-player_2",
      "activity-player_10",
    ]);
    const table = await runMain(["models", "--home", home], { home: dir.path });
    expect(
      table.stdout
        .split("\n")
        .slice(1, 4)
        .map((line) => line.split(" ")[0]),
    ).toEqual(["activity-player_1", "activity-player_2", "activity-player_10"]);

    // The daemon answers in the same order, so its clients (the TUI) need not sort.
    const daemon = await startDaemonProcess(home, ["--home", home, "--profile", join(home, "profile.yaml")]);
    try {
      const { models } = (await (await fetch(`${daemon.url}/v1/models`)).json()) as {
        models: Array<{ model: string }>;
      };
      expect(models.map((one) => one.model)).toEqual(["activity-player_1", "activity-player_2", "activity-player_10"]);
    } finally {
      daemon.proc.kill("SIGTERM");
      await daemon.proc.exited;
    }
  }, 60_000);
});
