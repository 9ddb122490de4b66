import { EdgetrainError } from "../../errors.ts";
import type { Hub } from "./hub.ts";
import type { ModelFile } from "./model-files.ts";

/**
 * The version a rollback announces: the newest one below the version last rolled out to the group (to
 * any device without a group), among those its rollouts announced: a version the hub stored but never
 * rolled out there is no step back. Rolling back twice walks back two versions.
 */
export function previousVersion(hub: Hub, model: string, group?: string): ModelFile {
  if (!hub.files.latest(model))
    throw new EdgetrainError("not_found", `the hub has no version of model ${model}`, { details: { model } });
  const where = group === undefined ? "the fleet" : `group ${group}`;
  const rolledOut = hub.registry.db
    .query<{ version: number }, [string, string | null]>(
      `SELECT r.version FROM rollouts r
       WHERE r.model = ?1 AND r.device_group IS ?2
         AND EXISTS (SELECT 1 FROM rollout_devices d WHERE d.rollout = r.id AND d.announced_at IS NOT NULL)
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
