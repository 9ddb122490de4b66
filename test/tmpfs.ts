import { spawnSync } from "node:child_process";
import { mkdtempSync, rmdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface Tmpfs extends AsyncDisposable {
  path: string;
}

function mount(dir: string, size: string): string | undefined {
  const result = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { encoding: "utf8" });
  return result.status === 0 ? undefined : (result.stderr || result.error?.message || `mount exited ${result.status}`).trim();
}

/** Why no tmpfs can be mounted here (not root, no mount permission in a container), or undefined if one can. */
export const tmpfsUnavailable: string | undefined = (() => {
  if (process.getuid?.() !== 0) return "mounting a tmpfs needs root";
  const probe = mkdtempSync(join(tmpdir(), "edgetrain-tmpfs-probe-"));
  try {
    const refused = mount(probe, "64k");
    if (refused) return `mounting a tmpfs was refused: ${refused}`;
    spawnSync("umount", [probe]);
    return undefined;
  } finally {
    rmdirSync(probe);
  }
})();

/** A small tmpfs, a disk that fills up for real; unmounted at the end of the `await using` scope. */
export function tmpfs(size: string): Tmpfs {
  const path = mkdtempSync(join(tmpdir(), "edgetrain-tmpfs-"));
  const refused = mount(path, size);
  if (refused) {
    rmdirSync(path);
    throw new Error(`could not mount a tmpfs on ${path}: ${refused}`);
  }
  return {
    path,
    async [Symbol.asyncDispose]() {
      spawnSync("umount", ["--lazy", path]);
      rmdirSync(path);
    },
  };
}
