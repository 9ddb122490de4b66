import { existsSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { checkCanListen } from "../../api/listen-check.ts";
import { loadProfile } from "../../config/load-profile.ts";
import { Daemon } from "../../daemon.ts";
import { writeAthletes } from "../../demo/athletes.ts";
import { DEMO_DATA, DEMO_PROFILE } from "../../demo/demo-profile.ts";
import { type DemoClient, runScenario } from "../../demo/scenario.ts";
import { EdgetrainError, messageOf } from "../../errors.ts";
import { isDiskFull } from "../../files/disk-full.ts";
import { diskFullError } from "../../files/disk-space.ts";
import { makeHomeFolder } from "../../files/make-home-folder.ts";
import { type Command, interactiveTerminal, portFlag } from "../command.ts";
import { checkHomeFolder, homeFlag } from "../home-folder.ts";
import { writeJson } from "../json-answer.ts";
import { openTui } from "./run.ts";

export const demoCommand: Command = {
  name: "demo",
  summary: "the whole loop on built-in demo data: train 30 player models, serve them, retrain one on a new session",
  description:
    "Creates a home (default ./edgetrain-demo) with 30 players × 4 sessions of synthetic wearable data (made by " +
    "edgetrain, no Python), starts the daemon with a demo profile (per-player random forests, new-data trigger, gate " +
    "+ activate, tiered cache), trains and serves all 30 models, then drops a fifth session for player_7 and shows " +
    "that only that model retrains, is gated and activated while predictions keep being answered.\n\n" +
    "Afterwards the daemon keeps serving until Ctrl-C. The last line on stdout is a JSON report.",
  options: {
    home: {
      type: "string",
      value: "DIR",
      description: "demo home (default ./edgetrain-demo); run it again to continue there",
    },
    port: { type: "string", value: "N", description: "API port (default 8470; 0 picks a free one)" },
    headless: {
      type: "boolean",
      description: "log each step on stderr instead of opening the TUI (the default without a terminal)",
    },
    once: { type: "boolean", description: "stop after the story instead of serving on; exit 1 if a step did not hold" },
    json: {
      type: "boolean",
      description: "no terminal UI; the report is the last line on stdout, as always; errors as JSON",
    },
  },
  examples: ["edgetrain demo", "edgetrain demo --once --headless --port 0"],
  async run(args, io) {
    const home = resolve(homeFlag(args) ?? "edgetrain-demo");
    checkHomeFolder(home, "--home");
    const dataDir = join(home, "data", "athletes");
    const profile = join(home, "demo-profile.yaml");
    const port = portFlag(args) ?? 8470;
    // A taken port must leave the home as it was, so it is found before anything is written there.
    // A new home gets the demo profile, which takes its api section from base.
    const { api } =
      loadProfile({
        profile: existsSync(profile) ? profile : "base",
        environment: io.environment,
        overrides: { home, port },
      }).profile ?? {};
    if (api) checkCanListen(api.host, api.port);
    const withTui = !args.values.headless && !args.values.once && !args.values.json && interactiveTerminal(io);
    let quiet = withTui;
    // With the TUI open, the story's steps go to the log, which its Logs screen shows.
    let logStep: ((line: string) => void) | undefined;
    const say = (line: string) => (quiet && logStep ? logStep(line) : io.stderr.write(`demo: ${line}\n`));
    try {
      makeHomeFolder(home, [home]);
      if (!existsSync(profile)) writeFileSync(profile, DEMO_PROFILE);
      if (!existsSync(join(dataDir, `player_${DEMO_DATA.players}`))) {
        say(
          `writing ${DEMO_DATA.players} players × ${DEMO_DATA.sessions} sessions of synthetic wearable data to ` +
            `${dataDir}`,
        );
        writeAthletes(dataDir, DEMO_DATA);
      }
    } catch (error) {
      throw isDiskFull(error) ? diskFullError(home, "the demo's data could not be written") : error;
    }
    const daemon = await Daemon.start({
      profile,
      environment: io.environment,
      overrides: { home, port },
      console: {
        write: (text) => void (quiet || io.stderr.write(text)),
        isTTY: io.stderr.isTTY,
        color: io.color,
        journal: io.stderr.journal,
      },
      headless: !withTui,
    });
    daemon.handleSignals({ onTerminal: Boolean(process.stdin.isTTY) });
    logStep = (line) => daemon.logger.info(`demo: ${line}`);
    const tui = withTui
      ? openTui(daemon).then(() => {
          quiet = false;
          io.stderr.write("TUI closed; the daemon keeps serving here (Ctrl-C stops it)\n");
        })
      : undefined;
    const { url } = daemon.address();
    say(`daemon serving at ${url} (home ${home})`);
    const token = daemon.token();
    const client: DemoClient = {
      get: async (path) => (await fetch(url + path)).json() as never,
      post: async (path, body) => {
        const response = await fetch(url + path, {
          method: "POST",
          headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
          body: JSON.stringify(body),
        });
        return { status: response.status, body: (await response.json()) as never };
      },
    };
    // With --once nobody is there to free space: a full disk ends the story rather than leaving it waiting.
    const story = new AbortController();
    if (args.values.once)
      daemon.disk.onChange(
        (disk) => disk.full && story.abort(diskFullError(home, "the demo stopped; no run starts until space is freed")),
      );
    let ok = false;
    try {
      const report = await runScenario(client, dataDir, say, undefined, story.signal);
      ok =
        report.models === DEMO_DATA.players &&
        report.failed === 0 &&
        report.unchanged === report.models - 1 &&
        report.retrained !== undefined;
      // With the TUI on the terminal the report goes to the log; otherwise it is the command's last line.
      if (withTui && quiet) daemon.logger.info("demo finished", { ok, ...report });
      else writeJson(io, { event: "demo", ok, url, ...report });
    } catch (error) {
      say(messageOf(error));
      if (args.values.once) {
        await daemon.stop("demo failed");
        throw error instanceof EdgetrainError ? error : new EdgetrainError("run_failed", `demo: ${messageOf(error)}`);
      }
    }
    if (args.values.once) {
      await daemon.stop("demo finished");
      return ok ? 0 : 1;
    }
    say(`done. The daemon keeps serving at ${url}: try  curl ${url}/v1/models  — Ctrl-C stops it.`);
    await tui;
    await new Promise(() => {});
    return 0;
  },
};
