import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { mariadbBinaries, postgresBinaries, startMariadb, startPostgres } from "../db-servers.ts";
import { runCli, tempDir } from "../helpers.ts";

const HOUR = 3_600_000;
const NOW = Date.parse("2026-11-22T12:00:00Z"); // a Sunday
const stamp = (at: number) => new Date(at).toISOString().replace("T", " ").replace("Z", "");

/** Players log in by day, few at night 02–05, none on Sunday night 02–05. */
function monthOfLogins(): number[] {
  const logins: number[] = [];
  for (let at = NOW - 28 * 24 * HOUR; at < NOW; at += HOUR) {
    const date = new Date(at);
    const hour = date.getUTCHours();
    const count = hour >= 2 && hour < 5 ? (date.getUTCDay() === 0 ? 0 : 3) : hour < 7 || hour >= 22 ? 10 : 40;
    for (let i = 0; i < count; i++) logins.push(at + Math.floor(((i + 0.5) / count) * HOUR));
  }
  return logins;
}

/** The server's CPU: quiet, but a backup keeps it busy on Sunday night 02–05. */
function monthOfServerLoad(): Array<{ at: number; cpu: number }> {
  const rows: Array<{ at: number; cpu: number }> = [];
  for (let at = NOW - 28 * 24 * HOUR; at < NOW; at += HOUR) {
    const date = new Date(at);
    rows.push({ at, cpu: date.getUTCDay() === 0 && date.getUTCHours() >= 2 && date.getUTCHours() < 5 ? 95 : 5 });
  }
  return rows;
}

const canRun = Boolean(postgresBinaries() && mariadbBinaries());

describe("off-peak from several sources", () => {
  test.skipIf(!canRun)(
    "players in MariaDB and server load in PostgreSQL, weighted: the backup night is no longer off-peak",
    async () => {
      await using maria = await startMariadb();
      await using postgres = await startPostgres();
      const logins = monthOfLogins();
      const mysql = new Bun.SQL(maria.url);
      await mysql.unsafe("CREATE DATABASE game");
      await mysql.unsafe("CREATE TABLE game.logins (login_at DATETIME NOT NULL)");
      for (let i = 0; i < logins.length; i += 2000)
        await mysql.unsafe(
          `INSERT INTO game.logins (login_at) VALUES ${logins
            .slice(i, i + 2000)
            .map((at) => `('${stamp(at)}')`)
            .join(",")}`,
        );
      await mysql.close();
      const pg = new Bun.SQL(postgres.url);
      await pg`CREATE TABLE server_load (sampled_at timestamp NOT NULL, cpu real NOT NULL)`;
      await pg.unsafe(
        `INSERT INTO server_load VALUES ${monthOfServerLoad()
          .map((row) => `('${stamp(row.at)}', ${row.cpu})`)
          .join(",")}`,
      );
      await pg.close();

      await using dir = tempDir();
      const home = join(dir.path, "home");
      const usage = (sources: string) =>
        `paths:\n  home: ${home}\nusage:\n  timezone: UTC\n  history_days: 60\n  window_hours: 3\n  ` +
        `sources:\n${sources}`;
      const players =
        `    - { type: sql, url: "\${PLAYERS_DB}", query: "SELECT login_at AS at, 1 AS players FROM ` +
        `game.logins WHERE login_at > $1", weight: 1 }\n`;
      const load =
        `    - { type: sql, url: "\${METRICS_DB}", query: "SELECT sampled_at AS at, cpu FROM server_load ` +
        `WHERE sampled_at > $1", weight: 2, weights: { cpu: 1 } }\n`;
      const env = { PLAYERS_DB: maria.url, METRICS_DB: postgres.url };
      const plan = async (profile: string) => {
        const file = dir.write("home/profile.yaml", profile);
        const answer = await runCli(["plan", "--json", "--profile", file], { home: dir.path, env });
        if (answer.code !== 0) throw new Error(answer.stderr);
        return JSON.parse(answer.stdout) as {
          offpeak: { windows: Array<{ label: string }>; points: number; trusted: boolean; note?: string };
        };
      };

      // Players alone: Sunday night is the quietest.
      const alone = await plan(usage(players));
      expect(alone.offpeak.windows[0]!.label).toBe("Sun 02:00–05:00");
      // With the server's load, weighted twice: the backup makes Sunday night busy; a weekday night wins.
      const both = await plan(usage(players + load));
      expect(both.offpeak.trusted).toBe(true);
      expect(both.offpeak.points).toBe(logins.length + 28 * 24);
      expect(both.offpeak.windows[0]!.label).toBe("Mon 02:00–05:00");
      expect(both.offpeak.windows.map((window) => window.label)).not.toContain("Sun 02:00–05:00");
      // A source that cannot be read is left out and named; the others still give the windows.
      const broken = `    - { type: sql, url: "postgres://nobody:secret@127.0.0.1:1/none", query: "SELECT 1 AS at" }\n`;
      const partly = await plan(usage(players + broken));
      expect(partly.offpeak.windows[0]!.label).toBe("Sun 02:00–05:00");
      expect(partly.offpeak.note).toStartWith(
        "usage source sql postgres://nobody:***@127.0.0.1:1/none could not be read",
      );
      expect(JSON.stringify(partly)).not.toContain("secret");
    },
    120_000,
  );

  test("a sql source without its query is a profile problem at its line", async () => {
    await using dir = tempDir();
    const file = dir.write(
      "profile.yaml",
      `paths:\n  home: ${dir.path}\nusage:\n  sources:\n    - { type: sql, url: "postgres://x@h/db" }\n`,
    );
    const answer = await runCli(["validate", "--profile", file], { home: dir.path });
    expect(answer.code).not.toBe(0);
    expect(answer.stdout + answer.stderr).toContain("a sql source needs url and query");
  });
});
