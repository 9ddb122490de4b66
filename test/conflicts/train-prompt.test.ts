import { expect, test } from "bun:test";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { holdLockfile } from "../../runtime/conflicts/predictors.ts";
import { bun, cli, runCli, tempDir } from "../helpers.ts";

const hasTmux = Boolean(Bun.which("tmux"));

function writeHome(dir: { path: string; write(path: string, text: string): string }) {
  const home = join(dir.path, "home");
  for (let n = 1; n <= 2; n++)
    dir.write(
      `home/data/athletes/player_1/TR${n}_x.csv`,
      `hr,label\n${Array.from({ length: 40 }, (_, i) => `${i},${i % 2 ? "a" : "b"}`).join("\n")}\n`,
    );
  dir.write(
    "home/profile.yaml",
    `paths:\n  home: ${home}\ngovernor:\n  max_cpu_before: 100\n  max_memory_before: 100\nconflicts:\n  predictors: ` +
      `[{ name: live }]\n  policy: ask\n  on_unattended: skip\n  ask_timeout: 30s\njobs:\n  activity:\n    strategy: ` +
      `random-forest\n    options: { n_estimators: 3 }\n    data: { source: sessions, path: athletes, debounce: 0 ` +
      `}\n    constraints: { not_during: [live] }\n`,
  );
  return home;
}

async function holding(home: string) {
  const hold = Bun.spawn([bun, cli, "hold", "live", "--home", home, "--", "sleep", "60"], {
    env: { PATH: process.env.PATH, HOME: home },
  });
  const deadline = Date.now() + 5000;
  while (!existsSync(holdLockfile(join(home, "locks"), "live")) && Date.now() < deadline) await Bun.sleep(25);
  return hold;
}

test("without a terminal, ask falls back to on_unattended (skip): the run is refused with the predictor " +
  "named", async () => {
  await using dir = tempDir();
  const home = writeHome(dir);
  const hold = await holding(home);
  try {
    const run = await runCli(["train", "activity", "--home", home], { home: dir.path });
    expect(run.code).toBe(5);
    expect(run.stderr).toMatch(/skipped job activity: live \(hold pid \d+\) is predicting/);
  } finally {
    hold.kill();
    await hold.exited;
  }
}, 30_000);

test.skipIf(!hasTmux)(
  "on a terminal, edgetrain train asks with a countdown; f forces the run",
  async () => {
    await using dir = tempDir();
    const home = writeHome(dir);
    const hold = await holding(home);
    const session = `edgetrain-ask-${process.pid}`;
    const tmux = (...args: string[]) => Bun.spawnSync(["tmux", ...args], { stdout: "pipe" }).stdout.toString();
    try {
      tmux(
        "new-session",
        "-d",
        "-s",
        session,
        "-x",
        "120",
        "-y",
        "30",
        `cd ${dir.path} && HOME=${dir.path} NO_COLOR=1 ${bun} ${cli} train activity --home ${home}; echo EXIT=$?; ` +
          `sleep 30`,
      );
      const screen = async (needle: string) => {
        const deadline = Date.now() + 15_000;
        for (;;) {
          const text = tmux("capture-pane", "-p", "-t", session);
          if (text.includes(needle)) return text;
          if (Date.now() > deadline) throw new Error(`"${needle}" never appeared:\n${text}`);
          await Bun.sleep(100);
        }
      };
      const asked = await screen("[w]ait, [s]kip or [f]orce? default wait in");
      expect(asked).toContain("job activity would train while a live predictor runs:");
      expect(asked).toMatch(/live: hold pid \d+/);
      tmux("send-keys", "-t", session, "f", "Enter");
      const done = await screen("EXIT=");
      expect(done).toContain("FORCED: job activity trains while live predicts");
      expect(done).toMatch(/player_1: succeeded/);
      expect(done).toContain("EXIT=0");
    } finally {
      tmux("kill-session", "-t", session);
      hold.kill();
      await hold.exited;
    }
  },
  40_000,
);
