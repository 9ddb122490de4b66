import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { hourOfWeek } from "../../runtime/offpeak/hour-of-week.ts";
import type { UsagePoint } from "../../runtime/offpeak/usage-source.ts";
import {
  inWindow,
  msToNextWindow,
  quietestWindows,
  weeklyActivity,
  windowHours,
} from "../../runtime/offpeak/windows.ts";
import { weekHeatMap } from "../../tui/week-heat-map.ts";
import { mariadbBinaries, postgresBinaries, startMariadb, startPostgres } from "../db-servers.ts";
import { runCli, tempDir } from "../helpers.ts";

const HOUR = 3_600_000;
const NOW = Date.parse("2026-11-22T12:00:00Z"); // a Sunday

/** A month of logins: busy days, quiet nights 02–05, and Sunday 02–05 quietest of all (none). */
function monthOfLogins(): number[] {
  const logins: number[] = [];
  for (let at = NOW - 28 * 24 * HOUR; at < NOW; at += HOUR) {
    const date = new Date(at);
    const hour = date.getUTCHours();
    const sunday = date.getUTCDay() === 0;
    const count = hour >= 2 && hour < 5 ? (sunday ? 0 : 3) : hour < 2 || hour >= 22 || hour < 7 ? 10 : 40;
    for (let i = 0; i < count; i++) logins.push(at + Math.floor(((i + 0.5) / count) * HOUR));
  }
  return logins;
}

describe("off-peak windows (hour-of-week scores)", () => {
  test("the quietest 3-hour window of a month of logins is Sunday 02:00–05:00", () => {
    const points: UsagePoint[] = monthOfLogins().map((at) => ({ at, values: { players: 1 } }));
    const activity = weeklyActivity(points, { players: 1 }, 200, "UTC");
    expect(activity.trusted).toBe(true);
    const windows = quietestWindows(activity, 3, 3);
    expect(windows[0]!.label).toBe("Sun 02:00–05:00");
    expect(windows[0]!.score).toBe(0);
    expect(
      windows
        .map((w) => w.label)
        .slice(1)
        .every((label) => label.endsWith("02:00–05:00")),
    ).toBe(true);
    expect(inWindow(windows, hourOfWeek(Date.parse("2026-11-29T03:30:00Z"), "UTC"))).toBe(true);
    expect(msToNextWindow(windows, Date.parse("2026-11-29T01:30:00Z"), "UTC")).toBe(30 * 60_000);
    // 10 logins an hour is a quarter of the busiest 40: ░; the window is W; the day █.
    expect(weekHeatMap(activity.score, windowHours(windows))[1]).toBe("Sun   ░░WWW░░███████████████░░");
  });

  test("too few observations are not trusted, and weights mix players with CPU", () => {
    const few = weeklyActivity([{ at: NOW, values: { players: 1 } }], { players: 1 }, 200, "UTC");
    expect(few.trusted).toBe(false);
    // The machine is busy on Sunday at 03:00 (a backup, say): with CPU weighted in, that night stops being the
    // quietest.
    const cpu: UsagePoint[] = [];
    for (let at = NOW - 28 * 24 * HOUR; at < NOW; at += HOUR)
      cpu.push({ at, values: { cpu: new Date(at).getUTCDay() === 0 && new Date(at).getUTCHours() === 3 ? 95 : 5 } });
    const points: UsagePoint[] = [...monthOfLogins().map((at) => ({ at, values: { players: 1 } })), ...cpu];
    const windows = quietestWindows(weeklyActivity(points, { players: 1, cpu: 3 }, 200, "UTC"), 3, 1);
    expect(windows[0]!.label).not.toBe("Sun 02:00–05:00");
  });
});

/** The database's address comes from GAME_DB_URL, as a profile keeps credentials out of its file. */
function profileFor(home: string, query: string) {
  return (
    `paths:\n  home: ${home}\nusage:\n  source: sql\n  timezone: UTC\n  history_days: 60\n  window_hours: 3\n  ` +
    `sql:\n    url: \${GAME_DB_URL}\n    query: "${query}"\njobs:\n  archetypes:\n    strategy: random-forest\n    ` +
    `data: { source: rows, path: logins.csv }\n    triggers: [{ type: cron, schedule: "0 * * * *" }]\n    ` +
    `constraints: { only_in: off-peak }\n`
  );
}

async function planWith(url: string, query: string) {
  await using dir = tempDir();
  const home = join(dir.path, "home");
  const file = dir.write("home/profile.yaml", profileFor(home, query));
  const plan = await runCli(["plan", "--json", "--profile", file], { home: dir.path, env: { GAME_DB_URL: url } });
  if (plan.code !== 0) throw new Error(plan.stderr);
  const text = await runCli(["plan", "--profile", file], { home: dir.path, env: { GAME_DB_URL: url } });
  return {
    json: JSON.parse(plan.stdout) as {
      offpeak: { windows: Array<{ label: string }>; points: number; trusted: boolean; note?: string };
      jobs: Array<{ job: string; next: string; why: string }>;
    },
    text: text.stdout,
  };
}

const logins = monthOfLogins();
const values = (rows: number[]) =>
  rows.map((at) => `('${new Date(at).toISOString().replace("T", " ").replace("Z", "")}')`).join(",");

describe("off-peak from a real database", () => {
  test.skipIf(!postgresBinaries())(
    "PostgreSQL: a month of logins gives Sunday 02:00–05:00, shown by edgetrain plan",
    async () => {
      await using db = await startPostgres();
      const sql = new Bun.SQL(db.url);
      await sql`CREATE TABLE logins (login_at timestamp NOT NULL)`;
      for (let i = 0; i < logins.length; i += 2000)
        await sql.unsafe(`INSERT INTO logins (login_at) VALUES ${values(logins.slice(i, i + 2000))}`);
      await sql.close();
      const { json, text } = await planWith(
        db.url,
        "SELECT login_at AS at, 1 AS players FROM logins WHERE login_at > $1",
      );
      expect(json.offpeak.trusted).toBe(true);
      expect(json.offpeak.points).toBeGreaterThan(10_000);
      expect(json.offpeak.windows[0]!.label).toBe("Sun 02:00–05:00");
      expect(json.jobs[0]!.why).toContain("only_in off-peak (Sun 02:00–05:00");
      expect(text).toContain("off-peak windows (W): Sun 02:00–05:00");
      expect(text).toContain("Sun   ");
      // A count that is not a number leaves its row out, counted and named, rather than scoring NaN.
      const bad = await planWith(
        db.url,
        "SELECT login_at AS at, '1' AS players FROM logins WHERE login_at > $1 UNION ALL SELECT now(), 'abc'",
      );
      expect(bad.json.offpeak.points).toBe(json.offpeak.points);
      expect(bad.json.offpeak.note).toMatch(
        /: 1 unreadable row\(s\) left out: row \d+: players is not a number: "abc"$/,
      );
      expect(bad.json.offpeak.windows[0]!.label).toBe("Sun 02:00–05:00");
    },
    90_000,
  );

  test.skipIf(!mariadbBinaries())(
    "MariaDB: the same month through the MySQL protocol",
    async () => {
      await using db = await startMariadb();
      const sql = new Bun.SQL(db.url);
      await sql.unsafe("CREATE DATABASE game");
      await sql.unsafe("CREATE TABLE game.logins (login_at DATETIME NOT NULL)");
      for (let i = 0; i < logins.length; i += 2000)
        await sql.unsafe(`INSERT INTO game.logins (login_at) VALUES ${values(logins.slice(i, i + 2000))}`);
      await sql.close();
      const { json } = await planWith(
        db.url,
        "SELECT login_at AS at, 1 AS players FROM game.logins WHERE login_at > $1",
      );
      expect(json.offpeak.windows[0]!.label).toBe("Sun 02:00–05:00");
    },
    90_000,
  );

  test("an unreachable database is said in words, and no window is made up", async () => {
    const { json } = await planWith("postgres://nobody:secret@127.0.0.1:1/none", "SELECT 1 AS at");
    expect(json.offpeak.windows).toEqual([]);
    expect(JSON.stringify(json)).not.toContain("secret");
  });
});

describe("off-peak from edgetrain's own record (usage.source: self)", () => {
  test("hours recorded in state give the window, and edgetrain plan reads them", async () => {
    const { openState } = await import("../../runtime/state/database.ts");
    const { SelfUsageRecorder } = await import("../../runtime/offpeak/self-usage.ts");
    await using dir = tempDir();
    const home = join(dir.path, "home");
    const state = openState(join(home, "state"));
    const recorder = new SelfUsageRecorder(state.db);
    // The same month, moved forward by whole weeks to end near today: hours of the week stay put.
    const WEEK = 7 * 24 * HOUR;
    const shift = Math.floor((Date.now() - NOW) / WEEK) * WEEK;
    for (const at of monthOfLogins()) recorder.request(at + shift);
    for (let at = NOW - 28 * 24 * HOUR; at < NOW; at += HOUR) recorder.sample(at + shift, 10, 40);
    recorder.flush();
    state.close();
    const file = dir.write(
      "home/profile.yaml",
      `paths:\n  home: ${home}\nusage:\n  source: self\n  timezone: UTC\n  history_days: 35\n  min_data_points: ` +
        `500\n  weights: { players: 1, cpu: 0, memory: 0 }\n`,
    );
    const plan = await runCli(["plan", "--json", "--profile", file], { home: dir.path });
    const json = JSON.parse(plan.stdout) as { offpeak: { windows: Array<{ label: string }>; points: number } };
    expect(json.offpeak.points).toBeGreaterThanOrEqual(600);
    expect(json.offpeak.windows[0]!.label).toBe("Sun 02:00–05:00");
  });

  test("the daemon records its load samples and API requests per hour", async () => {
    const { bun, cli } = await import("../helpers.ts");
    const { openState } = await import("../../runtime/state/database.ts");
    await using dir = tempDir();
    dir.write("profile.yaml", `paths:\n  home: ${dir.path}\ngovernor:\n  sample_interval: 100ms\n`);
    const proc = Bun.spawn(
      [bun, cli, "run", "--profile", join(dir.path, "profile.yaml"), "--port", "0", "--headless"],
      { env: { PATH: process.env.PATH, HOME: dir.path }, stdout: "pipe", stderr: "pipe" },
    );
    const { port } = JSON.parse(
      new TextDecoder().decode((await proc.stdout.getReader().read()).value).split("\n")[0]!,
    ) as { port: number };
    for (let i = 0; i < 5; i++) await fetch(`http://127.0.0.1:${port}/v1/status`);
    await Bun.sleep(600);
    proc.kill("SIGTERM");
    await proc.exited;
    const state = openState(join(dir.path, "state"));
    const rows = state.db
      .query<{ samples: number; requests: number }, []>(
        "SELECT sum(samples) AS samples, sum(requests) AS requests FROM usage_hours",
      )
      .get()!;
    state.close();
    expect(rows.requests).toBe(5);
    expect(rows.samples).toBeGreaterThanOrEqual(3);
  });
});
