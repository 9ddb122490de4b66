import { readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import * as v from "valibot";
import { durationMs } from "../config/duration.ts";
import type { DataFiles, Fingerprints, SettlingChanges } from "../plugin-api.ts";
import { SessionsSource } from "./source-spec.ts";

/** The key of a job whose data has no keys: its files count as one. */
const WHOLE_JOB = "";

/** A job's `data` section as its JobInfo has it. */
type DataSection = Readonly<Record<string, unknown>> | undefined;

/** Where a key's files are: names relative to `dir`, in the order fingerprints list them. */
interface KeyFiles {
  dir: string;
  names: string[];
}

/** A file as change detection sees it: its size and modification time, or `gone`. */
export function fileFingerprint(file: string): string {
  try {
    const stats = statSync(file);
    return `${stats.size}:${stats.mtimeMs}`;
  } catch {
    return "gone";
  }
}

/** A CSV file that is data: a score job's predictions (`NAME.predictions.csv`) beside the data are not. */
export function isDataFile(name: string): boolean {
  return name.endsWith(".csv") && !name.endsWith(".predictions.csv");
}

function csvNamesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true }).map(String).filter(isDataFile).sort();
  } catch {
    return [];
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * A job's data files by key, as its data source keys them: sessions by subfolder, rows by file
 * (`key_from: file`) or all under WHOLE_JOB. Empty when the job has no data or its folder is missing.
 */
function keyFiles(dataRoot: string, data: DataSection): Record<string, KeyFiles> {
  if (!data || typeof data.path !== "string") return {};
  const root = join(dataRoot, data.path);
  if (data.source === "sessions") {
    let keys: string[] = [];
    try {
      const entries = readdirSync(root, { withFileTypes: true });
      keys = entries.filter((entry) => entry.isDirectory()).map((entry) => entry.name);
    } catch {
      return {};
    }
    const filesOf = (key: string) => ({ dir: join(root, key), names: csvNamesUnder(join(root, key)) });
    return Object.fromEntries(keys.map((key) => [key, filesOf(key)]));
  }
  const byFile = data.key_from === "file";
  if (isFile(root)) return { [byFile ? basename(root, ".csv") : WHOLE_JOB]: { dir: root, names: [""] } };
  const names = csvNamesUnder(root);
  if (byFile) return Object.fromEntries(names.map((name) => [basename(name, ".csv"), { dir: root, names: [name] }]));
  return { [WHOLE_JOB]: { dir: root, names } };
}

/** Per key, its files' names, sizes and mtimes in one string: equal strings, unchanged files. */
function dataFingerprints(dataRoot: string, data: DataSection): Fingerprints {
  const entries = Object.entries(keyFiles(dataRoot, data));
  const fingerprint = ({ dir, names }: KeyFiles) =>
    names.map((name) => `${name}:${fileFingerprint(join(dir, name))}`).join("|");
  return Object.fromEntries(entries.map(([key, files]) => [key, fingerprint(files)]));
}

/**
 * Follows a job's fingerprints from a baseline: a key settles once its files changed and then kept still
 * for `debounceMs`, so a file still being copied in does not count until the copy ends.
 */
export class Settling implements SettlingChanges {
  private lastSeen: Fingerprints;
  /** Keys whose files changed, and when they last changed. */
  private readonly pending = new Map<string, number>();

  constructor(
    baseline: Fingerprints,
    private readonly debounceMs: number,
  ) {
    this.lastSeen = baseline;
  }

  look(now: Fingerprints, at: number): { settled: string[]; wakeAt?: number } {
    for (const key of new Set([...Object.keys(now), ...Object.keys(this.lastSeen)])) {
      if (now[key] !== this.lastSeen[key]) this.pending.set(key, at);
    }
    this.lastSeen = now;
    const settled = [...this.pending].filter(([, changedAt]) => at - changedAt >= this.debounceMs).map(([key]) => key);
    for (const key of settled) this.pending.delete(key);
    const wakeAt = this.pending.size > 0 ? Math.min(...this.pending.values()) + this.debounceMs : undefined;
    return { settled, wakeAt };
  }
}

/**
 * Waits until none of `files` has changed size or mtime for `debounceMs`, so a session file still being
 * copied in is not read half-way. Gives up after `limitMs` and reads what is there.
 */
export async function waitUntilStable(
  files: readonly string[],
  debounceMs: number,
  limitMs = Math.max(60_000, debounceMs * 10),
): Promise<void> {
  if (debounceMs <= 0) return;
  const started = Date.now();
  const signature = () => files.map(fileFingerprint).join("|");
  let last = signature();
  let stableSince = Date.now();
  // A file modified long ago is stable already.
  const newest = Math.max(...files.map(modifiedAt));
  if (Date.now() - newest >= debounceMs) return;
  while (Date.now() - stableSince < debounceMs && Date.now() - started < limitMs) {
    await Bun.sleep(Math.min(200, debounceMs));
    const now = signature();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    }
  }
}

function modifiedAt(file: string): number {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/** `data.debounce` as the profile has it, or the data source's default when the section leaves it out. */
function debounceOf(data: DataSection): number {
  const debounce = data?.debounce;
  const given = typeof debounce === "string" || typeof debounce === "number";
  return durationMs(given ? debounce : v.getDefault(SessionsSource.entries.debounce));
}

/** What a plugin's context offers of its job's data (`ctx.data`): the listing the data loader reads too. */
export function dataFiles(dataRoot: string, data: DataSection): DataFiles {
  const debounceMs = debounceOf(data);
  return {
    debounceMs,
    fingerprint: fileFingerprint,
    filesByKey: () => {
      const entries = Object.entries(keyFiles(dataRoot, data));
      return Object.fromEntries(entries.map(([key, { dir, names }]) => [key, names.map((name) => join(dir, name))]));
    },
    fingerprints: () => dataFingerprints(dataRoot, data),
    changes: (baseline, quietMs = debounceMs) => new Settling(baseline, quietMs),
  };
}
