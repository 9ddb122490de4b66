import { afterEach, expect, test } from "bun:test";
import { bun, cli, startDaemonProcess, tempDir } from "../helpers.ts";

const hasTmux = Boolean(Bun.which("tmux"));
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A job that trains for nothing: the TUI only lists it. */
const job = (name: string) =>
  `  ${name}:\n    strategy: command\n    options: { command: [sh, -c, "true"] }\n    triggers: [{ type: manual }]\n`;

test.skipIf(!hasTmux)(
  "in a real terminal, keys sent together (tmux send-keys) are each obeyed, and text after / is the filter",
  async () => {
    await using dir = tempDir();
    const profile = dir.write(
      "profile.yaml",
      `extends: base\ngovernor: { max_cpu_before: 100, max_memory_before: 100 }\njobs:\n${job("alpha")}${job("beta")}` +
        job("gamma"),
    );
    const daemon = await startDaemonProcess(dir.path, ["--home", dir.path, "--profile", profile]);
    cleanups.push(async () => {
      daemon.proc.kill("SIGTERM");
      await daemon.proc.exited;
    });
    const session = `edgetrain-keys-${process.pid}`;
    const tmux = (...args: string[]) => Bun.spawnSync(["tmux", ...args], { stdout: "pipe" }).stdout.toString();
    cleanups.push(() => tmux("kill-session", "-t", session));
    tmux(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "110",
      "-y",
      "30",
      `cd ${dir.path} && HOME=${dir.path} NO_COLOR=1 ${bun} ${cli} tui --home ${dir.path}; echo EXIT=$?; sleep 30`,
    );
    const screen = async (what: string, check: (text: string) => boolean) => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const text = tmux("capture-pane", "-p", "-t", session);
        if (check(text)) return text;
        if (Date.now() > deadline) throw new Error(`the terminal never showed ${what}:\n${text}`);
        await Bun.sleep(100);
      }
    };
    await screen("the TUI live", (text) => text.includes("● live"));
    tmux("send-keys", "-t", session, "4jj");
    await screen("gamma selected on the Jobs screen", (text) => /› gamma\s+command/.test(text));
    tmux("send-keys", "-t", session, "/al");
    const filtered = await screen("the filter /al", (text) => text.includes("/al") && /› alpha\s+command/.test(text));
    expect(filtered).not.toMatch(/beta\s+command/);
    tmux("send-keys", "-t", session, "Enter");
    await screen("the filter kept", (text) => text.includes("/ change"));
    tmux("send-keys", "-t", session, "q");
    expect(await screen("the TUI closing", (text) => text.includes("EXIT="))).toContain("EXIT=0");
  },
  60_000,
);
