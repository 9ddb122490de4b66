import { describe, expect, test } from "bun:test";
import { spawnSync } from "node:child_process";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { render } from "ink-testing-library";
import type { DaemonStatus } from "../../runtime/api/daemon-view.ts";
import { App } from "../../tui/app.tsx";
import { daemonEvents } from "../../tui/connection.ts";
import { bun, cli, runCli, tempDir, waitUntil } from "../helpers.ts";
import { startAthleteDaemon } from "../serving/fixture.ts";
import { tinyDisk, tinyDiskUnavailable } from "../tiny-disk.ts";

const PROFILE = `extends: base
governor: { max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100, sample_interval: 200ms }
jobs:
  activity:
    strategy: random-forest
    options: { n_estimators: 5, max_depth: 4 }
    data: { source: sessions, path: athletes, sessions_to_use: 3, debounce: 0 }
    triggers: [{ type: manual }]
`;

/** Every file and folder under `dir`, relative, sorted. */
const listing = (dir: string) => readdirSync(dir, { recursive: true }).map(String).sort();

describe.skipIf(tinyDiskUnavailable !== undefined)(
  `the disk of the home is full${tinyDiskUnavailable ? ` (skipped: ${tinyDiskUnavailable})` : ""}`,
  () => {
    test("a daemon started on a full disk exits 5, names the home, and leaves nothing behind", async () => {
      await using disk = tinyDisk(2);
      await using dir = tempDir();
      const home = join(disk.path, "home");
      const profile = dir.write("profile.yaml", PROFILE);
      disk.fill();
      const result = await runCli(["run", "--home", home, "--profile", profile, "--port", "0", "--headless"], {
        home: dir.path,
      });
      expect(result.code).toBe(5);
      expect(result.stderr).toStartWith(
        `edgetrain: the disk of the home ${home} is full (0 B free): nothing was started\n  hint: free space there`,
      );
      expect(listing(disk.path)).toEqual([".filler", join(".filler", "fill")]);
    });

    test("a full disk mounted read-only is not called full: the home cannot be created there, exit 2", async () => {
      await using disk = tinyDisk(2);
      await using dir = tempDir();
      const home = join(disk.path, "home");
      disk.fill();
      expect(spawnSync("mount", ["-o", "remount,ro", disk.path]).status).toBe(0);
      const result = await runCli(["run", "--home", home, "--port", "0", "--headless"], { home: dir.path });
      expect({ code: result.code, stderr: result.stderr }).toEqual({
        code: 2,
        stderr: `edgetrain: home ${home} cannot be created: EROFS: read-only file system, mkdir '${home}'\n`,
      });
    });

    test("a daemon whose disk fills goes on serving, starts no run and says so everywhere; once space is back runs " +
      "start again", async () => {
      await using disk = tinyDisk(8);
      const home = join(disk.path, "home");
      const { daemon, token } = await startAthleteDaemon(home, PROFILE);
      // Read from the start, so the daemon never blocks on a full pipe; checked at the end for uncaught errors.
      const stderr = new Response(daemon.proc.stderr).text();
      const events: Array<{ type: string; data: Record<string, unknown> }> = [];
      const stream = new AbortController();
      await using _stopped = {
        [Symbol.asyncDispose]: async () => {
          stream.abort();
          daemon.proc.kill("SIGTERM");
          await daemon.proc.exited;
        },
      };
      void fetch(`${daemon.url}/v1/events?types=run.,disk.`, { signal: stream.signal })
        .then(async (response) => {
          for await (const event of daemonEvents(response.body!)) events.push(event);
        })
        .catch(() => undefined);
      const get = async <T,>(path: string) => (await (await fetch(daemon.url + path)).json()) as T;
      const status = () => get<DaemonStatus>("/v1/status");
      const runs = async () => (await get<{ runs: Array<{ status: string }> }>("/v1/runs?limit=50")).runs;
      const post = (path: string, body: unknown = {}) =>
        fetch(daemon.url + path, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      const predict = () =>
        post("/v1/predict/activity-player_1", { inputs: [Array.from({ length: 16 }, (_, i) => i)] });

      const succeeded = async (count: number) =>
        (await runs()).filter((run) => run.status === "succeeded").length === count && (await status()).running === 0;
      // Two versions of one model: a rollback is a write the full disk can refuse.
      for (const count of [1, 2]) {
        expect((await post("/v1/jobs/activity/run", { key: "player_1" })).status).toBe(202);
        await waitUntil(() => succeeded(count), 30_000);
      }
      expect((await predict()).status).toBe(200);

      disk.fill();
      expect((await post("/v1/jobs/activity/run")).status).toBe(202);
      const deferred = `the disk of the home ${home} is full (0 B free); runs start again once space is back`;
      await waitUntil(
        () => events.some((event) => event.type === "run.deferred" && event.data.reason === deferred),
        10_000,
      );
      const full = await status();
      expect(full.disk).toMatchObject({ home, full: true, message: `the disk of the home ${home} is full (0 B free)` });
      expect(events.filter((event) => event.type === "disk.full")).toHaveLength(1);
      expect(full.queue.map((entry) => entry.key).sort()).toEqual(["player_1", "player_2"]);
      // Status tells what the scheduler does: the same admission, not the governor's readings alone.
      expect(full.governor).toMatchObject({ admitting: false, admission: deferred });
      expect([full.running, (await runs()).length]).toEqual([0, 2]);
      expect(events.filter((event) => event.type === "run.started")).toHaveLength(2);
      const metrics = await (await fetch(`${daemon.url}/metrics`)).text();
      expect(metrics).toContain("\nedgetrain_home_disk_full 1\n");
      expect(metrics).toMatch(/\nedgetrain_home_disk_free_bytes \d+\n/);
      expect((await predict()).status).toBe(200);
      const rollback = await post("/v1/models/activity-player_1/rollback");
      expect([rollback.status, await rollback.json()]).toEqual([
        507,
        {
          code: "disk_full",
          message: "POST /v1/models/activity-player_1/rollback: the disk of the home is full; see edgetrain status",
        },
      ]);
      const cliStatus = await runCli(["status", "--home", home, "--profile", join(home, "profile.yaml")], { home });
      expect(cliStatus.stdout).toContain(
        `disk: the disk of the home ${home} is full (0 B free) since ${full.disk.since} — no new runs start; ` +
          `predictions go on`,
      );
      expect(cliStatus.stdout).toContain(`governor: holding new runs back — ${deferred}`);
      const screen = render(<App connection={{ url: daemon.url, token }} color={false} refreshMs={250} />);
      try {
        await waitUntil(
          () => (screen.lastFrame() ?? "").includes(`Disk: the disk of the home ${home} is full (0 B free) since`),
          10_000,
        );
      } finally {
        screen.unmount();
      }

      disk.free();
      await waitUntil(() => events.some((event) => event.type === "disk.space_back"), 20_000);
      await waitUntil(() => succeeded(4), 30_000);
      const after = await status();
      expect(after.disk).toMatchObject({ full: false, waiting_writes: 0 });
      expect(after.governor).toMatchObject({ admitting: true, admission: "" });
      expect(after.queue).toEqual([]);
      expect(await (await fetch(`${daemon.url}/metrics`)).text()).toContain("\nedgetrain_home_disk_full 0\n");
      // The decisions taken while the disk was full were kept and written once space was back.
      const decisions = await runCli(["decisions", "--home", home, "--profile", join(home, "profile.yaml"), "--json"], {
        home,
      });
      expect(decisions.stdout).toContain(deferred);

      expect(daemon.proc.exitCode).toBeNull();
      daemon.proc.kill("SIGTERM");
      expect(await daemon.proc.exited).toBe(0);
      const log = await stderr;
      expect(log).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
      expect(log).not.toContain("SQLiteError");
    }, 120_000);

    test("demo --once on a disk too small for its 30 models stops with exit 5 and says why, instead of waiting " +
      "forever", async () => {
      // The demo's data takes about 16 MB: this leaves room to start and train a few models.
      await using disk = tinyDisk(18);
      await using dir = tempDir();
      const home = join(disk.path, "demo");
      const proc = Bun.spawn([bun, cli, "demo", "--once", "--headless", "--port", "0", "--home", home], {
        cwd: dir.path,
        env: { PATH: process.env.PATH, HOME: dir.path, NO_COLOR: "1" },
        stdout: "pipe",
        stderr: "pipe",
      });
      let killed = false;
      const limit = setTimeout(() => {
        killed = true;
        proc.kill("SIGKILL");
      }, 150_000);
      const [stdout, stderr, code] = await Promise.all([
        new Response(proc.stdout).text(),
        new Response(proc.stderr).text(),
        proc.exited,
      ]);
      clearTimeout(limit);
      expect([killed, code]).toEqual([false, 5]);
      expect(stdout).toBe("");
      expect(stderr).toContain(`edgetrain: the disk of the home ${home} is full (`);
      expect(stderr).toContain("the demo stopped; no run starts until space is freed");
      expect(stderr).toMatch(
        /ERROR the disk of the home .+ is full \(.+ free\): no new runs start; predictions go on; retrying every/,
      );
      expect(stderr).not.toMatch(/^\s+at .+:\d+:\d+\)?$/m);
    }, 180_000);
  },
);
