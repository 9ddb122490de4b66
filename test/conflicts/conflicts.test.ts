import { Database } from "bun:sqlite";
import { describe, expect, test } from "bun:test";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { holdLockfile, scanPredictors } from "../../runtime/conflicts/predictors.ts";
import { processStartTime } from "../../runtime/os/process-identity.ts";
import { bun, cli, runCli, startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";

const until = (predicate: () => boolean, ms?: number) => waitUntil(predicate, ms);

/** `edgetrain hold live -- sleep SECONDS`, started and holding its lock. */
async function holdLive(home: string, seconds: number) {
  const hold = Bun.spawn([bun, cli, "hold", "live", "--home", home, "--", "sleep", String(seconds)], {
    env: { PATH: process.env.PATH, HOME: home },
  });
  await until(() => existsSync(holdLockfile(join(home, "locks"), "live")));
  return hold;
}

describe("live predictors", () => {
  test(
    "found by command line, by a lockfile with a live owner, and by edgetrain hold; stale locks are " + "removed",
    async () => {
      await using dir = tempDir();
      const locksDir = join(dir.path, "locks");
      const predictor = Bun.spawn(["sh", "-c", "sleep 30; echo test_30_players.py"]);
      const sleeper = Bun.spawn(["sleep", "30"]);
      const dead = Bun.spawn(["true"]);
      await dead.exited;
      try {
        dir.write("ext/alive.lock", String(sleeper.pid));
        dir.write("ext/dead.lock", String(dead.pid));
        dir.write(
          "ext/reused.lock",
          JSON.stringify({
            pid: sleeper.pid,
            start_time: processStartTime(sleeper.pid)! - 5,
            host: hostname(),
            command: "old predictor",
            created: "then",
          }),
        );
        const held = holdLockfile(locksDir, "nightly");
        dir.write(
          `locks/${held.split("/").pop()}`,
          JSON.stringify({
            pid: sleeper.pid,
            start_time: processStartTime(sleeper.pid),
            host: hostname(),
            command: "edgetrain hold nightly -- ./serve.sh",
            created: "now",
          }),
        );
        const scan = scanPredictors(
          [
            { name: "live", cmdline: "test_30_players.py" },
            { name: "kiosk", lockfile: "ext/alive.lock" },
            { name: "old", lockfile: "ext/dead.lock" },
            { name: "reused", lockfile: join(dir.path, "ext/reused.lock") },
            { name: "nightly" },
          ],
          { home: dir.path, locksDir },
        );
        const found = scan.active.map((p) => [p.name, p.found, p.pid]);
        expect(found).toContainEqual(["live", "process", predictor.pid]);
        expect(found).toContainEqual(["kiosk", "lockfile", sleeper.pid]);
        expect(found).toContainEqual(["nightly", "hold", sleeper.pid]);
        expect(found.filter(([name]) => name === "old" || name === "reused")).toEqual([]);
        expect(scan.staleRemoved.map((s) => s.lockfile).sort()).toEqual([
          join(dir.path, "ext/dead.lock"),
          join(dir.path, "ext/reused.lock"),
        ]);
        expect(existsSync(join(dir.path, "ext/dead.lock"))).toBe(false);
      } finally {
        predictor.kill();
        sleeper.kill();
      }
    },
  );

  test(
    "edgetrain hold runs a command under the lock, passes its exit code and signals on, and removes the " + "lock",
    async () => {
      await using dir = tempDir();
      const lock = holdLockfile(join(dir.path, "locks"), "live");
      const proc = Bun.spawn([bun, cli, "hold", "live", "--home", dir.path, "--", "sh", "-c", "sleep 30"], {
        env: { PATH: process.env.PATH, HOME: dir.path },
      });
      await until(() => existsSync(lock));
      const owner = JSON.parse(await Bun.file(lock).text()) as { pid: number; command: string };
      expect(owner.pid).toBe(proc.pid);
      proc.kill("SIGTERM");
      expect(await proc.exited).toBe(143);
      expect(existsSync(lock)).toBe(false);
      const code = await runCli(["hold", "live", "--home", dir.path, "--", "sh", "-c", "exit 3"], { home: dir.path });
      expect(code.code).toBe(3);
      expect(existsSync(lock)).toBe(false);
    },
  );

  test("hold --respect-training waits while a training run holds its lock", async () => {
    await using dir = tempDir();
    const training = dir.write(
      "locks/training-r1.lock",
      JSON.stringify({
        pid: process.pid,
        start_time: processStartTime(process.pid),
        host: hostname(),
        command: "edgetrain",
        created: "now",
      }),
    );
    // The predictor keeps what the training lock held when it started: empty once the run has ended.
    const marker = join(dir.path, "predicted");
    const copy = `cat ${training} > ${marker}`;
    const env = { PATH: process.env.PATH, HOME: dir.path };
    const hold = [bun, cli, "hold", "live", "--respect-training", "--home", dir.path];
    const proc = Bun.spawn([...hold, "--", "sh", "-c", copy], { env, stderr: "pipe" });
    try {
      let said = "";
      const reading = (async () => {
        for await (const text of proc.stderr.pipeThrough(new TextDecoderStream())) said += text;
      })();
      // Started on a loaded machine, it may take seconds to look: wait until it says it waits.
      await until(() => said.includes("waiting for 1 training run(s) to finish"), 30_000).catch(() => {
        throw new Error(`edgetrain hold never said it waits; it said ${JSON.stringify(said)}`);
      });
      // Past two of its looks (every 0.5 s) to see it go on waiting: a slow machine looks fewer times, never runs it.
      await Bun.sleep(1200);
      expect(existsSync(marker)).toBe(false);
      writeFileSync(training, ""); // the run ended: its lock no longer names a live owner
      expect(await proc.exited).toBe(0);
      await reading;
      expect(readFileSync(marker, "utf8")).toBe("");
    } finally {
      proc.kill(); // gone already when it passed; waiting for ever when it did not
    }
  });
});

function writeHome(dir: { path: string; write(path: string, text: string): string }, conflicts: string) {
  const home = join(dir.path, "home");
  for (let n = 1; n <= 2; n++)
    dir.write(
      `home/data/athletes/player_1/TR${n}_x.csv`,
      `hr,label\n${Array.from({ length: 40 }, (_, i) => `${i},${i % 2 ? "a" : "b"}`).join("\n")}\n`,
    );
  dir.write(
    "home/profile.yaml",
    `paths:\n  home: ${home}\napi:\n  token: conflict-token-0123456789\ngovernor:\n  sample_interval: 100ms\n  ` +
      `max_cpu_before: 100\n  max_memory_before: 100\n  pause_cpu: 100\n  pause_memory: 100\nconflicts:\n  ` +
      `predictors: [{ name: live }]\n${conflicts}jobs:\n  activity:\n    strategy: random-forest\n    options: { ` +
      `n_estimators: 3 }\n    data: { source: sessions, path: athletes, debounce: 0 }\n    constraints: { ` +
      `not_during: [live] }\n`,
  );
  return home;
}

async function daemonOn(home: string, headless: boolean) {
  const { proc, url } = await startDaemonProcess(home, ["--home", home, ...(headless ? ["--headless"] : [])]);
  const headers = { authorization: "Bearer conflict-token-0123456789", "content-type": "application/json" };
  const api = async <T>(path: string, body?: unknown) =>
    (await (
      await fetch(`${url}${path}`, body === undefined ? {} : { method: "POST", headers, body: JSON.stringify(body) })
    ).json()) as T;
  return { proc, api };
}

type Runs = { runs: Array<{ status: string; trigger: string; started_at: number | null }> };

const ENDED = ["succeeded", "failed", "cancelled"];

/** The events of `type` the daemon on `home` has recorded, read from its state database. */
function eventsOf(home: string, type: string): Array<Record<string, unknown>> {
  const state = new Database(join(home, "state/edgetrain.db"), { readonly: true });
  try {
    const rows = state.query<{ data: string }, [string]>("SELECT data FROM events WHERE type = ?").all(type);
    return rows.map((row) => JSON.parse(row.data) as Record<string, unknown>);
  } finally {
    state.close();
  }
}

describe("jobs meet live predictors", () => {
  test("wait: the run starts once edgetrain hold ends", async () => {
    await using dir = tempDir();
    const home = writeHome(dir, "  policy: wait\n  check_interval: 200ms\n  max_wait: 1m\n");
    const hold = await holdLive(home, 60);
    const { proc, api } = await daemonOn(home, true);
    try {
      await api("/v1/jobs/activity/run", {});
      // The daemon has met the live predictor (however long a loaded machine took to get there) and waits.
      await until(() => eventsOf(home, "conflict.met").length > 0, 20_000);
      expect(eventsOf(home, "conflict.met")[0]).toMatchObject({ job: "activity", policy: "wait" });
      // Five check intervals to see it go on waiting: a slow machine checks fewer times, never starts a run.
      await Bun.sleep(1000);
      expect((await api<Runs>("/v1/runs")).runs).toEqual([]);
      expect(eventsOf(home, "conflict.cleared")).toEqual([]);
      const holdEnded = Date.now();
      hold.kill("SIGTERM");
      await hold.exited;
      let runs: Runs["runs"] = [];
      await waitUntil(
        async () => (runs = (await api<Runs>("/v1/runs")).runs).some((r) => ENDED.includes(r.status)),
        30_000,
      );
      expect(runs.map((r) => r.status)).toEqual(["succeeded"]);
      // Started once the hold had ended, however long the machine took to get there.
      expect(runs[0]!.started_at!).toBeGreaterThanOrEqual(holdEnded);
    } finally {
      hold.kill();
      proc.kill("SIGTERM");
      await proc.exited;
    }
  }, 60_000);

  test("ask: the question appears over the API and the answer decides; unattended, on_unattended applies", async () => {
    await using dir = tempDir();
    const home = writeHome(dir, "  policy: ask\n  ask_timeout: 1m\n  on_unattended: skip\n");
    const hold = await holdLive(home, 30);
    try {
      const attended = await daemonOn(home, false);
      try {
        await attended.api("/v1/jobs/activity/run", {});
        let open: Array<{ id: string; job: string; key: string; predictors: Array<{ name: string; found: string }> }> =
          [];
        const deadline = Date.now() + 5000;
        while (open.length === 0 && Date.now() < deadline) {
          open = (await attended.api<{ conflicts: typeof open }>("/v1/conflicts")).conflicts;
          await Bun.sleep(50);
        }
        expect(open).toHaveLength(1);
        expect(open[0]).toMatchObject({
          job: "activity",
          key: "player_1",
          predictors: [{ name: "live", found: "hold" }],
        });
        const answered = await attended.api<{ answer: string }>(`/v1/conflicts/${open[0]!.id}`, { action: "force" });
        expect(answered.answer).toBe("force");
        let runs: Runs["runs"] = [];
        while (!runs.some((r) => r.status === "succeeded") && Date.now() < deadline + 5000) {
          runs = (await attended.api<Runs>("/v1/runs")).runs;
          await Bun.sleep(50);
        }
        expect(runs.map((r) => r.status)).toEqual(["succeeded"]);
        expect((await attended.api<{ conflicts: unknown[] }>("/v1/conflicts")).conflicts).toEqual([]);
      } finally {
        attended.proc.kill("SIGTERM");
        await attended.proc.exited;
      }
      const unattended = await daemonOn(home, true);
      try {
        await unattended.api("/v1/jobs/activity/run", {});
        await Bun.sleep(800);
        expect((await unattended.api<{ conflicts: unknown[] }>("/v1/conflicts")).conflicts).toEqual([]);
      } finally {
        unattended.proc.kill("SIGTERM");
        await unattended.proc.exited;
      }
      const { Database } = await import("bun:sqlite");
      const db = new Database(join(home, "state/edgetrain.db"), { readonly: true });
      const skipped = db
        .query<{ data: string }, []>("SELECT data FROM events WHERE type = 'run.skipped'")
        .all()
        .map((row) => JSON.parse(row.data).reason as string);
      const forced = db
        .query<{ n: number }, []>("SELECT count(*) AS n FROM events WHERE type = 'conflict.forced'")
        .get()!.n;
      db.close();
      expect(forced).toBe(1);
      expect(skipped.some((reason) => reason.startsWith("skipped: live (hold pid"))).toBe(true);
    } finally {
      hold.kill("SIGTERM");
      await hold.exited;
    }
  }, 40_000);

  test("validate names an unknown predictor in not_during", async () => {
    await using dir = tempDir();
    const home = writeHome(dir, "");
    const file = join(home, "profile.yaml");
    writeFileSync(file, (await Bun.file(file).text()).replace("not_during: [live]", "not_during: [lve]"));
    const run = await runCli(["validate", file], { home: dir.path });
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'jobs.activity.constraints.not_during[0]  unknown predictor "lve"  (did you mean "live"? predictors: live)',
    );
  });
});

test("ask with nobody answering: the default applies after ask_timeout, and the decisions say so", async () => {
  await using dir = tempDir();
  const home = writeHome(dir, "  policy: ask\n  ask_timeout: 1s\n  ask_default: skip\n");
  const hold = await holdLive(home, 30);
  try {
    const attended = await daemonOn(home, false);
    try {
      await attended.api("/v1/jobs/activity/run", {});
      await Bun.sleep(2000);
      expect((await attended.api<{ conflicts: unknown[] }>("/v1/conflicts")).conflicts).toEqual([]);
      expect((await attended.api<Runs>("/v1/runs")).runs).toEqual([]);
    } finally {
      attended.proc.kill("SIGTERM");
      await attended.proc.exited;
    }
    const decisions = await runCli(["decisions", "--home", home, "--job", "activity", "--json"], { home: dir.path });
    const types = (JSON.parse(decisions.stdout) as Array<{ type: string; answer?: string; reason?: string }>).map(
      (d) => [d.type, d.answer ?? d.reason ?? ""],
    );
    expect(types).toContainEqual(["conflict.answered", "skip"]);
    expect(types).toContainEqual(["run.skipped", "skipped: the answer to the conflict was skip"]);
    expect(types.map(([type]) => type)).toContain("conflict.asked");
  } finally {
    hold.kill("SIGTERM");
    await hold.exited;
  }
}, 30_000);
