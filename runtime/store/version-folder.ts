import { copyFile, mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { syncPath, writeAtomicallyAsync } from "../files/write-atomically.ts";
import { writeFailure } from "../files/write-failure.ts";
import { HEALTH_FILE, METADATA_FILE, MODEL_FILE, sha256OfFile, type VersionMetadata } from "./versions.ts";

/**
 * Writes version `version` of the model in `dir`: the artifact, its metadata and health inputs go into a
 * temporary folder that is renamed whole, so a version is never seen half written. Returns its metadata.
 */
export async function writeVersionFolder(
  dir: string,
  version: number,
  artifact: string,
  metadata: Omit<VersionMetadata, "sha256" | "created_at">,
  healthInputs?: number[][],
): Promise<VersionMetadata> {
  await mkdir(dir, { recursive: true });
  const incoming = join(dir, `.incoming-${version}-${process.pid}`);
  await rm(incoming, { recursive: true, force: true });
  await mkdir(incoming);
  try {
    try {
      await copyFile(artifact, join(incoming, MODEL_FILE));
      const [from, to] = await Promise.all([stat(artifact), stat(join(incoming, MODEL_FILE))]);
      // A copy cut short by a full disk must never become a version.
      if (to.size !== from.size) throw new Error(`the copy stopped after ${to.size} of ${from.size} bytes`);
    } catch (error) {
      throw writeFailure(join(dir, String(version), MODEL_FILE), error);
    }
    await syncPath(join(incoming, MODEL_FILE));
    const full: VersionMetadata = {
      ...metadata,
      created_at: new Date().toISOString(),
      sha256: await sha256OfFile(join(incoming, MODEL_FILE)),
    };
    await writeAtomicallyAsync(join(incoming, METADATA_FILE), `${JSON.stringify(full, null, 2)}\n`);
    if (healthInputs?.length)
      await writeAtomicallyAsync(join(incoming, HEALTH_FILE), `${JSON.stringify(healthInputs)}\n`);
    await rename(incoming, join(dir, String(version)));
    await syncPath(dir);
    return full;
  } finally {
    await rm(incoming, { recursive: true, force: true });
  }
}
