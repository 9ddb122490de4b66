import { expect, test } from "bun:test";
import { closeSync, openSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readEnvironment } from "../../runtime/environment.ts";
import { isJournalStream } from "../../runtime/log/journal-stream.ts";
import { LogSink } from "../../runtime/log/logger.ts";
import { bun, cli, tempDir, waitUntil } from "../helpers.ts";

/** JOURNAL_STREAM as systemd sets it: the device and inode of the stream, here a file standing in for it. */
function journalStreamOf(file: string): string {
  const stat = statSync(file, { bigint: true });
  return `${stat.dev}:${stat.ino}`;
}

test("JOURNAL_STREAM counts only for the descriptor it names, not for one a child was handed instead", async () => {
  await using dir = tempDir();
  const journal = dir.write("journal", "");
  const other = dir.write("other", "");
  const { journalStream } = readEnvironment({ JOURNAL_STREAM: journalStreamOf(journal) });
  const [journalFd, otherFd] = [openSync(journal, "a"), openSync(other, "a")];
  try {
    expect(isJournalStream(journalStream, journalFd)).toBe(true);
    expect(isJournalStream(journalStream, otherFd)).toBe(false);
    expect(isJournalStream(undefined, journalFd)).toBe(false);
    expect(readEnvironment({ JOURNAL_STREAM: "not:a-stream" }).journalStream).toBeUndefined();
  } finally {
    closeSync(journalFd);
    closeSync(otherFd);
  }
});

test("on the journal each log line starts with its syslog priority, every line of a message", () => {
  let printed = "";
  const sink = new LogSink({
    level: "debug",
    console: { write: (text) => void (printed += text), isTTY: false, color: false, journal: true },
  });
  const logger = sink.logger();
  logger.error("reload rejected: governor.pause_cpu", { job: "activity" });
  logger.warn("disk nearly full");
  logger.info("profile reloaded");
  logger.debug("governor reading");
  logger.error("run failed\ntrainer said: out of memory");
  const lines = printed.trimEnd().split("\n");
  expect(lines.map((line) => line.slice(0, 3))).toEqual(["<3>", "<4>", "<6>", "<7>", "<3>", "<3>"]);
  expect(lines[0]).toMatch(/^<3>\d\d:\d\d:\d\d ERROR reload rejected: governor.pause_cpu {2}job=activity$/);
  expect(lines[5]).toBe("<3>trainer said: out of memory");
});

test("a daemon under journald logs a rejected reload at error priority, its other lines at theirs", async () => {
  await using dir = tempDir();
  const profile = dir.write("p.yaml", "device:\n  name: before\n");
  const journal = dir.write("journal", "");
  const stderr = openSync(journal, "a");
  const proc = Bun.spawn([bun, cli, "run", "--headless", "--port", "0", "--home", dir.path, "--profile", profile], {
    env: { PATH: process.env.PATH, HOME: dir.path, NO_COLOR: "1", JOURNAL_STREAM: journalStreamOf(journal) },
    stdout: "pipe",
    stderr,
  });
  closeSync(stderr);
  const printed = () => readFileSync(journal, "utf8");
  try {
    await new Response(proc.stdout).body?.getReader().read();
    writeFileSync(profile, "governor:\n  pause_cpu: lots\n");
    proc.kill("SIGHUP");
    await waitUntil(() => printed().includes("kept the running profile"), 30_000);
  } finally {
    proc.kill("SIGINT");
  }
  expect(await proc.exited).toBe(0);
  const lines = printed().trimEnd().split("\n");
  expect(lines.filter((line) => !/^<[3467]>/.test(line))).toEqual([]);
  expect(lines.find((line) => line.includes("reload rejected"))).toStartWith("<3>");
  expect(lines.some((line) => line.startsWith("<6>"))).toBe(true);
}, 60_000);

test("a command that fails under journald says why at error priority; with stderr elsewhere, as it was", async () => {
  await using dir = tempDir();
  const journal = dir.write("journal", "");
  const env = { PATH: process.env.PATH, HOME: dir.path, NO_COLOR: "1", JOURNAL_STREAM: journalStreamOf(journal) };
  const args = [bun, cli, "service", "install", "--dry-run", "--run-as", "root"];
  const stderr = openSync(journal, "a");
  const intoJournal = Bun.spawn(args, { env, stdout: "ignore", stderr });
  closeSync(stderr);
  expect(await intoJournal.exited).toBe(2);
  expect(readFileSync(join(dir.path, "journal"), "utf8")).toStartWith("<3>edgetrain: --run-as: ");
  // A child that inherited JOURNAL_STREAM but writes to a pipe.
  const piped = Bun.spawn(args, { env, stdout: "ignore", stderr: "pipe" });
  expect(await new Response(piped.stderr).text()).toStartWith("edgetrain: --run-as: ");
}, 60_000);
