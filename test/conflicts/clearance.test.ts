import { expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import { TerminalAsker } from "../../runtime/cli/terminal-asker.ts";
import { ProfileSchema } from "../../runtime/config/schema.ts";
import type { Asker } from "../../runtime/conflicts/asker.ts";
import { type ClearanceTarget, ConflictClearance, UnattendedAsker } from "../../runtime/conflicts/clearance.ts";
import { ConflictDesk } from "../../runtime/conflicts/conflict-desk.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import { systemClock } from "../../runtime/plugins/context.ts";
import { type TempDir, tempDir } from "../helpers.ts";

/** Job `activity` must not overlap predictor `live`, held now by a lockfile naming this process. */
function conflictOn(dir: TempDir, conflicts: Record<string, unknown>) {
  const lockfile = dir.write("live.lock", String(process.pid));
  const profile = v.parse(ProfileSchema, {
    conflicts: { predictors: [{ name: "live", lockfile }], ask_timeout: "30s", ...conflicts },
    jobs: {
      activity: {
        strategy: "random-forest",
        data: { source: "sessions", path: "athletes" },
        constraints: { not_during: ["live"] },
      },
    },
  });
  return { profile, lockfile };
}

function clearanceWith(profile: ReturnType<typeof conflictOn>["profile"], home: string, asker: Asker) {
  const recorded: Array<{ type: string; data: Record<string, unknown> }> = [];
  const record = (type: string, data: object) => void recorded.push({ type, data: { ...data } });
  const clearance = new ConflictClearance({ profile, home, clock: systemClock, asker, logger: silentLogger, record });
  return { clearance, recorded, types: () => recorded.map((r) => r.type) };
}

/** Standard input that types `text` once the prompt is up. */
function typed(text: string): () => ReadableStream<Uint8Array> {
  return () =>
    new ReadableStream({
      async start(controller) {
        await Bun.sleep(100);
        controller.enqueue(new TextEncoder().encode(text));
      },
    });
}

test("one clearance, three askers: the desk, a terminal and nobody each decide the same conflict", async () => {
  await using dir = tempDir();
  const { profile, lockfile } = conflictOn(dir, { policy: "ask", on_unattended: "skip" });
  const home = join(dir.path, "home");

  // The daemon's desk: the question waits on the queue entry until a client answers it over the API.
  const desk = new ConflictDesk();
  const viaDesk = clearanceWith(profile, home, desk);
  const entry: ClearanceTarget = { job: "activity", key: "player_1" };
  expect(viaDesk.clearance.check(entry)).toEqual({ to: "hold" });
  expect(viaDesk.clearance.check(entry)).toEqual({ to: "hold" });
  const [question] = desk.list();
  const predictors = [{ name: "live", found: "lockfile", lockfile }];
  expect(question).toMatchObject({ job: "activity", key: "player_1", predictors });
  desk.answer(question!.id, "force", "tui");
  expect(viaDesk.clearance.check(entry)).toMatchObject({ to: "start", forced: [{ name: "live", pid: process.pid }] });
  expect(viaDesk.types()).toEqual(["conflict.met", "conflict.asked", "conflict.answered", "conflict.forced"]);
  expect(viaDesk.recorded[2]!.data).toMatchObject({ conflict: question!.id, answer: "force", by: "tui" });
  expect(desk.list()).toEqual([]);

  // A terminal: the person types s, Enter.
  const screen: string[] = [];
  const terminal = new TerminalAsker({ write: (text: string) => void screen.push(text), isTTY: true }, typed("s\n"));
  const viaTerminal = clearanceWith(profile, home, terminal);
  expect(await viaTerminal.clearance.clear({ job: "activity" })).toMatchObject({
    to: "drop",
    cause: "answer",
    reason: "skipped: the answer to the conflict was skip",
  });
  expect(screen.join("")).toContain("job activity would train while a live predictor runs:");
  const answered = viaTerminal.recorded.find((r) => r.type === "conflict.answered");
  expect(answered!.data).toMatchObject({ answer: "skip", by: "person" });

  // Nobody to ask: on_unattended (skip) stands in for ask, and no question is put.
  const viaNobody = clearanceWith(profile, home, new UnattendedAsker());
  expect(await viaNobody.clearance.clear({ job: "activity" })).toMatchObject({
    to: "drop",
    cause: "skip",
    reason: `skipped: live (lockfile pid ${process.pid}) is predicting`,
  });
  expect(viaNobody.types()).toEqual(["conflict.met"]);
  expect(viaNobody.recorded[0]!.data).toMatchObject({ policy: "skip" });
});

test("wait, in the blocking clear(): cleared once the predictor's lock goes, else gives up at max_wait", async () => {
  await using dir = tempDir();
  const { profile, lockfile } = conflictOn(dir, { policy: "wait", check_interval: "50ms", max_wait: "400ms" });
  const home = join(dir.path, "home");
  const { clearance, types } = clearanceWith(profile, home, new UnattendedAsker());
  expect(await clearance.clear({ job: "activity" })).toMatchObject({
    to: "drop",
    cause: "max_wait",
    reason: expect.stringContaining("gave up after 400ms: live (lockfile"),
  });
  const released = clearanceWith(profile, home, new UnattendedAsker());
  setTimeout(() => rmSync(lockfile), 150);
  expect(await released.clearance.clear({ job: "activity" })).toEqual({ to: "start" });
  expect(released.types()).toEqual(["conflict.met", "run.deferred", "conflict.cleared"]);
  expect(types()).toEqual(["conflict.met", "run.deferred"]);
});
