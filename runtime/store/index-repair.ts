import type { Database } from "bun:sqlite";
import { copyFileSync, existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { messageOf } from "../errors.ts";
import type { Logger } from "../plugin-api.ts";
import { type ActivePointer, type ActivePointers, POINTER_FILE, readPointer, rollbackText } from "./active-pointer.ts";
import {
  METADATA_FILE,
  MODEL_FILE,
  type ModelSummary,
  type VersionMetadata,
  type VersionStatus,
  versionDirs,
} from "./versions.ts";

/** What repair at open reaches of the store: its files, its index and what it lists. */
export interface RepairParts {
  root: string;
  db: Database;
  pointers: ActivePointers;
  keepVersions: number;
  logger?: Pick<Logger, "warn">;
  index(model: string, version: number, metadata: VersionMetadata, status: VersionStatus): void;
  list(): ModelSummary[];
}

/**
 * The store never leaves a half-written pointer, nor removes one without the database knowing, but a
 * hand edit, a cleanup or a failing disk can: read as "no active version", it would take the model out
 * of service. The database recorded every activation, so that version serves again; a damaged file is
 * kept beside it for a look.
 */
function restorePointer(parts: RepairParts, model: string): void {
  const file = join(parts.root, model, POINTER_FILE);
  let read: ReturnType<typeof readPointer> | undefined;
  try {
    read = readPointer(readFileSync(file, "utf8"));
  } catch (error) {
    // Unreadable (permissions, a folder in its place) is not damage to repair: the model serves nothing, and says why.
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") {
      parts.logger?.warn(
        `model ${model}: cannot read ${file} (${messageOf(error)}); the model serves nothing until it can`,
        { model },
      );
      parts.pointers.set(model, undefined);
      return;
    }
  }
  // Read once at open: what serves is known from here on without reading the file again.
  if (read && "pointer" in read) return void parts.pointers.set(model, read.pointer);
  // The row marked active is the database's record of the last activation, kept in step with the pointer.
  const recorded = parts.db
    .query<{ version: number }, [string]>(
      "SELECT version FROM model_versions WHERE model = ? AND status = 'active' ORDER BY version DESC LIMIT 1",
    )
    .get(model)?.version;
  const onDisk = recorded !== undefined && existsSync(join(parts.root, model, String(recorded), MODEL_FILE));
  parts.pointers.set(model, undefined);
  if (!read) {
    // No pointer and no activation on record: a model before its first activation, or a withdrawal (it
    // marks its version rolled back before the pointer goes; one cut short by a crash is finished here).
    if (recorded === undefined) return;
    if (!onDisk) {
      parts.logger?.warn(
        `model ${model}: ${file} is missing and version ${recorded}, which the state database records as active, is ` +
          `not on disk; the model serves nothing until one is activated`,
        { model },
      );
      return;
    }
    const pointer = writeRecordedPointer(parts, model, recorded);
    parts.logger?.warn(
      `model ${model}: ${file} was missing; version ${recorded} serves again, as the state database recorded, and ` +
        `${rollbackText(pointer)}`,
      { model, version: recorded },
    );
    return;
  }
  const { problem } = read;
  copyFileSync(file, `${file}.damaged`);
  if (!onDisk) {
    rmSync(file, { force: true });
    parts.logger?.warn(
      `model ${model}: ${file} is damaged (${problem}) and the state database names no version on disk; the model ` +
        `serves nothing until one is activated (the file is kept as ${POINTER_FILE}.damaged)`,
      { model },
    );
    return;
  }
  const pointer = writeRecordedPointer(parts, model, recorded);
  parts.logger?.warn(
    `model ${model}: ${file} was damaged (${problem}); version ${recorded} serves again, as the state database ` +
      `recorded, and ${rollbackText(pointer)} (the file is kept as ${POINTER_FILE}.damaged)`,
    { model, version: recorded },
  );
}

function writeRecordedPointer(parts: RepairParts, model: string, recorded: number): ActivePointer {
  // Retired versions are the ones that served before: in version order, the last is the likeliest to have served last.
  const retired = parts.db
    .query<{ version: number }, [string]>(
      "SELECT version FROM model_versions WHERE model = ? AND status = 'retired' ORDER BY version",
    )
    .all(model)
    .map((row) => row.version)
    .filter((version) => version !== recorded && existsSync(join(parts.root, model, String(version), MODEL_FILE)));
  const pointer: ActivePointer = {
    version: recorded,
    previous: retired.slice(-Math.max(parts.keepVersions, 1)),
    activated_at: new Date().toISOString(),
  };
  parts.pointers.writeNow(model, pointer);
  return pointer;
}

/**
 * A crash between the folder rename and the index insert leaves a folder without a row: index it again.
 * With a new or deleted state database, every folder is: the index is rebuilt from the models folder.
 */
export function repairIndex(parts: RepairParts): void {
  let models: string[];
  try {
    models = readdirSync(parts.root).filter((name) => !name.startsWith("."));
  } catch {
    return;
  }
  const rebuilding = !parts.db.query("SELECT 1 FROM model_versions LIMIT 1").get();
  let indexed = 0;
  for (const model of models) {
    // Left by a process killed mid-write: the real names were never touched, so these only go.
    for (const name of safeList(join(parts.root, model)))
      if (name.startsWith(".incoming-") || name.endsWith(".partial"))
        rmSync(join(parts.root, model, name), { recursive: true, force: true });
    restorePointer(parts, model);
    const pointer = parts.pointers.get(model);
    for (const version of versionDirs(parts.root, model)) {
      const metadataFile = join(parts.root, model, String(version), METADATA_FILE);
      if (!existsSync(metadataFile)) continue;
      const known = parts.db.query("SELECT 1 FROM model_versions WHERE model = ? AND version = ?").get(model, version);
      if (known) continue;
      // The pointer says which version serves and which served before it: listed as such, not as candidates.
      const status: VersionStatus =
        pointer?.version === version ? "active" : pointer?.previous.includes(version) ? "retired" : "candidate";
      try {
        parts.index(model, version, JSON.parse(readFileSync(metadataFile, "utf8")) as VersionMetadata, status);
        indexed++;
      } catch (error) {
        parts.logger?.warn(
          `model ${model} version ${version}: ${metadataFile} is damaged (${messageOf(error)}); the version is left ` +
            `out of the list and cannot be activated`,
          { model, version },
        );
      }
    }
    // The record follows the pointer: the version it names is the row marked active, and only it.
    const active = parts.pointers.get(model)?.version;
    if (active !== undefined)
      parts.db
        .query(
          "UPDATE model_versions SET status = CASE WHEN version = ? THEN 'active' ELSE 'retired' END WHERE model = ? " +
            "AND (status = 'active' OR version = ?)",
        )
        .run(active, model, active);
  }
  if (rebuilding && indexed > 0) parts.logger?.warn(rebuiltText(parts, indexed), { models: parts.root });
}

/** What a rebuilt index means for the user: what was found again, what serves, and what is gone for good. */
function rebuiltText(parts: RepairParts, indexed: number): string {
  const models = parts.list();
  const serving = models.filter((m) => m.active !== undefined);
  const named =
    serving
      .slice(0, 5)
      .map((m) => `${m.model} version ${m.active}`)
      .join(", ") + (serving.length > 5 ? `, … ${serving.length - 5} more` : "");
  const count = (n: number, noun: string) => `${n} ${noun}${n === 1 ? "" : "s"}`;
  return (
    `the state database had no record of the models in ${parts.root} (it is new, or was deleted): it was ` +
    `rebuilt from the models folder, ${count(indexed, "version")} of ${count(models.length, "model")} indexed again; ` +
    `serving as before: ${named || "none"}. Run history, trigger state and events from before are gone: triggers ` +
    `start from what they see now`
  );
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
