import { EdgetrainError } from "../../errors.ts";
import type { Hub } from "./hub.ts";
import type { ModelFile } from "./model-files.ts";

/**
 * The version a rollback announces: the newest one the hub has below the version last rolled out to the
 * group (to any device without a group). Rolling back twice walks back two versions.
 */
export function previousVersion(hub: Hub, model: string, group?: string): ModelFile {
  const last = hub.registry.db
    .query<{ version: number }, [string, string | null]>(
      "SELECT version FROM rollouts WHERE model = ? AND device_group IS ? ORDER BY created_at DESC, rowid DESC LIMIT 1",
    )
    .get(model, group ?? null);
  const newest = hub.files.latest(model);
  if (!newest)
    throw new EdgetrainError("not_found", `the hub has no version of model ${model}`, { details: { model } });
  const current = last?.version ?? newest.version;
  const previous = hub.files.versions(model).find((file) => file.version < current);
  if (!previous) {
    throw new EdgetrainError("conflict", `model ${model} has no version before ${current} on the hub to roll back to`, {
      details: { model, version: current },
    });
  }
  return previous;
}
