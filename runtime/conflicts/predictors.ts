import { readdirSync, readFileSync, rmSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import { durationMs } from "../config/duration.ts";
import type { Profile } from "../config/schema.ts";
import { isOwnerAlive, type LockOwner } from "../locks/lockfile.ts";
import { isAlive } from "../os/process-identity.ts";

/** A live predictor in the way of a training run, with what identifies it. */
export interface ActivePredictor {
  name: string;
  /** How it was found: its command line, a lockfile it wrote, or `edgetrain hold`. */
  found: "process" | "lockfile" | "hold" | "serving";
  pid?: number;
  command?: string;
  lockfile?: string;
  /** For edgetrain's own serving: the model it answered requests for lately. */
  model?: string;
}

/** Models edgetrain itself answered predictions for within the last `withinMs`, matching a pattern. */
export type ServingActivity = (pattern: string, withinMs: number) => string[];

export interface PredictorScan {
  active: ActivePredictor[];
  /** Lockfiles whose owner is gone: removed, to be logged. */
  staleRemoved: Array<{ lockfile: string; pid?: number }>;
}

type Predictor = Profile["conflicts"]["predictors"][number];

/** Where `edgetrain hold NAME` keeps its lock: the name alone decides, so profiles need not list the path. */
export function holdLockfile(locksDir: string, name: string): string {
  return join(locksDir, `predictor-${name.replace(/[^A-Za-z0-9._-]/g, "_")}.lock`);
}

/** A predictor's `lockfile`: absolute, or relative to the home. Its folder is written: a stale one is removed. */
export function lockfilePath(lockfile: string, home: string): string {
  return isAbsolute(lockfile) ? lockfile : join(home, lockfile);
}

/**
 * Finds the named predictors that are live now: processes whose command line contains the pattern
 * (from /proc/PID/cmdline, this process excluded), lockfiles with a live owner, and `edgetrain hold`
 * locks. Lockfiles left by a dead owner are removed and reported.
 */
export function scanPredictors(
  predictors: readonly Predictor[],
  options: { home: string; locksDir: string; procRoot?: string; serving?: ServingActivity; servingWithinMs?: number },
): PredictorScan {
  const procRoot = options.procRoot ?? "/proc";
  const scan: PredictorScan = { active: [], staleRemoved: [] };
  const patterns = predictors.filter((p) => p.cmdline);
  const commands = patterns.length ? commandLines(procRoot) : [];
  for (const predictor of predictors) {
    if (predictor.cmdline) {
      for (const { pid, command } of commands)
        if (command.includes(predictor.cmdline))
          scan.active.push({ name: predictor.name, found: "process", pid, command });
    }
    if (predictor.serving && options.serving) {
      for (const model of options.serving(predictor.serving, options.servingWithinMs ?? 10_000))
        scan.active.push({
          name: predictor.name,
          found: "serving",
          pid: process.pid,
          model,
          command: `edgetrain serving model ${model}`,
        });
    }
    const lockfiles: Array<[string, ActivePredictor["found"]]> = [
      [holdLockfile(options.locksDir, predictor.name), "hold"],
    ];
    if (predictor.lockfile) lockfiles.push([lockfilePath(predictor.lockfile, options.home), "lockfile"]);
    for (const [lockfile, found] of lockfiles) {
      const owner = lockOwner(lockfile, procRoot);
      if (owner === undefined) continue;
      if (owner.alive)
        scan.active.push({ name: predictor.name, found, pid: owner.pid, command: owner.command, lockfile });
      else {
        rmSync(lockfile, { force: true });
        scan.staleRemoved.push({ lockfile, pid: owner.pid });
      }
    }
  }
  return scan;
}

function commandLines(procRoot: string): Array<{ pid: number; command: string }> {
  const out: Array<{ pid: number; command: string }> = [];
  let entries: string[] = [];
  try {
    entries = readdirSync(procRoot);
  } catch {
    return out;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const command = readFileSync(join(procRoot, entry, "cmdline"), "utf8")
        .replace(/\0+$/, "")
        .replaceAll("\0", " ");
      if (command) out.push({ pid: Number(entry), command });
    } catch {
      // The process ended while we looked.
    }
  }
  return out;
}

/**
 * The owner of a lockfile written by edgetrain (JSON with pid and start time) or by another program
 * (a bare pid, or anything else: then only its existence counts). Undefined when there is no file.
 */
function lockOwner(lockfile: string, procRoot: string): { alive: boolean; pid?: number; command?: string } | undefined {
  let text: string;
  try {
    text = readFileSync(lockfile, "utf8").trim();
  } catch {
    return undefined;
  }
  try {
    const owner = JSON.parse(text) as LockOwner;
    if (typeof owner.pid === "number") return { alive: isOwnerAlive(owner), pid: owner.pid, command: owner.command };
  } catch {
    // Not ours: maybe a bare pid.
  }
  if (/^\d+$/.test(text)) return { alive: isAlive(Number(text), undefined, procRoot), pid: Number(text) };
  return { alive: true };
}

/** The live predictors job must not overlap (its constraints.not_during), found now. */
export function scanForJob(
  profile: Profile,
  job: string,
  options: { home: string; procRoot?: string; serving?: ServingActivity },
): PredictorScan {
  const names = profile.jobs[job]?.constraints.not_during ?? [];
  if (names.length === 0) return { active: [], staleRemoved: [] };
  return scanPredictors(
    profile.conflicts.predictors.filter((p) => names.includes(p.name)),
    {
      home: options.home,
      locksDir: join(options.home, "locks"),
      procRoot: options.procRoot,
      serving: options.serving,
      servingWithinMs: durationMs(profile.conflicts.check_interval),
    },
  );
}
