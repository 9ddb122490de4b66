import { messageOf } from "../errors.ts";
import type { Logger } from "../plugin-api.ts";
import type { ModelStore } from "../store/model-store.ts";
import type { ModelActivator } from "./model-activator.ts";

/**
 * Checks every active version's file against its sha256, before the daemon serves. A damaged one (a
 * failing disk, a cut-off copy, a hand edit) would answer 503 until someone acted: the newest intact
 * version serves instead, loaded and health-checked like any activation. Returns the models it changed.
 */
export async function healActiveVersions(
  store: ModelStore,
  activator: ModelActivator,
  logger: Logger,
): Promise<string[]> {
  const active = store.list().flatMap((summary) => store.active(summary.model) ?? []);
  // Hashed together: the reads overlap, and the start waits for the slowest file rather than their sum.
  const damage = await Promise.all(active.map((version) => store.damageOf(version)));
  const healed: string[] = [];
  for (const [i, damaged] of active.entries()) {
    const problem = damage[i];
    if (problem === undefined) continue;
    const { model, version, path: file } = damaged;
    const fields = { model, damaged_version: version, file };
    const failed: string[] = [];
    let serving: number | undefined;
    for (const candidate of (await store.intactVersions(model)).filter((v) => v.version !== version)) {
      try {
        serving = (await activator.activate(model, candidate.version, `version ${version} is damaged`)).version;
        break;
      } catch (error) {
        failed.push(`version ${candidate.version}: ${messageOf(error)}`);
      }
    }
    const tried = failed.length ? ` (tried first: ${failed.join("; ")})` : "";
    if (serving === undefined) {
      logger.error(
        `model ${model}: the active version ${version} is damaged (${problem}) and no other intact version ` +
          `serves${tried}; its predictions fail until a new run of its job trains one`,
        fields,
      );
      continue;
    }
    healed.push(model);
    logger.error(
      `model ${model}: the active version ${version} is damaged (${problem}); version ${serving}, the newest intact ` +
        `one that passes its health check, serves instead${tried}`,
      { ...fields, version: serving },
    );
  }
  return healed;
}
