/**
 * The TUI's cost, run by hand: `bun scripts/bench/tui.ts`. Needs tmux. Attaches `edgetrain tui` (1 refresh
 * per second) to a daemon serving the 30 demo models, in a 100×30 tmux pane, and reads its CPU time from
 * /proc over a minute; the peer is `watch -n 1 curl …/v1/status`, the usual way to keep an eye on a service.
 * Prints a Markdown table and the captured overview for the README.
 */
import { readFileSync, rmSync } from "node:fs";
import { cpus } from "node:os";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");
const work = join(root, ".bench-tui");
const home = join(work, "demo");
const cli = join(root, "runtime/cli/main.ts");
const bun = process.execPath;
const SECONDS = Number(process.env.BENCH_SECONDS ?? 60);
rmSync(work, { recursive: true, force: true });

const tmux = (...args: string[]) =>
  Bun.spawnSync(["tmux", ...args], { stdout: "pipe", stderr: "pipe" })
    .stdout.toString()
    .trim();
/** utime + stime (+ children's) in clock ticks (100 per second on Linux). */
const ticks = (pid: number, children = false) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return Number(fields[11]) + Number(fields[12]) + (children ? Number(fields[13]) + Number(fields[14]) : 0);
};

// The 30 demo models, then a daemon serving them.
Bun.spawnSync([bun, cli, "demo", "--home", home, "--port", "0", "--once"], {
  env: { ...process.env, HOME: work },
  stdout: "ignore",
  stderr: "ignore",
});
const daemon = Bun.spawn(
  [bun, cli, "run", "--home", home, "--profile", join(home, "demo-profile.yaml"), "--port", "8575", "--headless"],
  { env: { ...process.env, HOME: work }, stdout: "ignore", stderr: "ignore" },
);
await Bun.sleep(2000);

async function measure(session: string, command: string, children: boolean) {
  tmux("new-session", "-d", "-s", session, "-x", "100", "-y", "30", command);
  await Bun.sleep(5000);
  const pid = Number(tmux("display", "-p", "-t", session, "#{pane_pid}"));
  const before = ticks(pid, children);
  await Bun.sleep(SECONDS * 1000);
  const used = ticks(pid, children) - before;
  const screen = tmux("capture-pane", "-p", "-t", session);
  tmux("kill-session", "-t", session);
  return { percent: used / SECONDS, screen };
}

const tui = await measure(
  "bench-tui",
  `cd ${work} && HOME=${work} NO_COLOR=1 exec ${bun} ${cli} tui --home ${home}`,
  false,
);
const peer = await measure("bench-watch", `exec watch -n 1 curl -s http://127.0.0.1:8575/v1/status`, true);
daemon.kill("SIGTERM");
await daemon.exited;

console.log(
  `Command: \`bun scripts/bench/tui.ts\` — machine: ${cpus().length}× ${cpus()[0]?.model.trim()} — date: ` +
    `${new Date().toISOString().slice(0, 10)}\n`,
);
console.log("| Measure | edgetrain tui | watch -n 1 curl /v1/status | Target |\n|---|---|---|---|");
console.log(
  `| CPU over ${SECONDS} s, 1 refresh per second, 30 models, 100×30 terminal | ${tui.percent.toFixed(2)} % of one ` +
    `core | ${peer.percent.toFixed(2)} % | < 3 % |`,
);
console.log(`\nThe overview as captured:\n\n\`\`\`\n${tui.screen.replace(/\s+$/gm, "")}\n\`\`\``);
rmSync(work, { recursive: true, force: true });
