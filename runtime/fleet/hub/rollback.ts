import { EdgetrainError } from "../../errors.ts";
import type { Hub } from "./hub.ts";
import type { ModelFile } from "./model-files.ts";

/**
 * The version a rollback announces: the newest one below the version the group runs now, among those
 * actually announced to its devices (every device without a group). What the group runs is the version
 * of the newest rollout announced to any of them, whether it named the group or every device; a version
 * the hub stored but never rolled out there is no step back. Rolling back twice walks back two versions.
 */
export function previousVersion(hub: Hub, model: string, group?: string): ModelFile {
  if (!hub.files.latest(model))
    throw new EdgetrainError("not_found", `the hub has no version of model ${model}`, { details: { model } });
  const where = group === undefined ? "the fleet" : `group ${group}`;
  const rolledOut = hub.registry.db
    .query<{ version: number }, [string, string | null]>(
      `SELECT r.version FROM rollouts r
       WHERE r.model = ?1 AND EXISTS (
         SELECT 1 FROM rollout_devices d WHERE d.rollout = r.id AND d.announced_at IS NOT NULL
           AND (?2 IS NULL OR d.device IN (SELECT device FROM device_groups WHERE name = ?2)))
       ORDER BY r.created_at DESC, r.rowid DESC`,
    )
    .all(model, group ?? null)
    .map((row) => row.version);
  const current = rolledOut[0];
  if (current === undefined) {
    throw new EdgetrainError("conflict", `model ${model} was never rolled out to ${where}: nothing to roll back`, {
      details: { model, group: group ?? null },
    });
  }
  const previous = rolledOut
    .filter((version) => version < current)
    .sort((a, b) => b - a)
    .map((version) => hub.files.get(model, version))
    .find((file) => file !== undefined);
  if (!previous) {
    throw new EdgetrainError(
      "conflict",
      `model ${model} has no version before ${current} rolled out to ${where} to roll back to`,
      { details: { model, version: current, group: group ?? null } },
    );
  }
  return previous;
}
