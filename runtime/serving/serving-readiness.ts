import { statSync } from "node:fs";
import type { SessionPool } from "../inference/session-pool.ts";
import type { ModelStore, ModelVersion } from "../store/model-store.ts";
import { damageOf } from "../store/versions.ts";

/** A model's serving file as last hashed: the stat it had then, and what was wrong with it. */
interface Hashed {
  path: string;
  stamp: string;
  damage: Promise<string | undefined>;
}

/**
 * Whether serving versions can answer, judged without loading any: a version is ready when its session
 * is loaded, or when its file is there, matches its sha256 and has not failed to load since it last
 * changed. Loading each one per `/ready` would evict sessions and stall predictions under a health
 * checker's polling; a file is hashed again only when its size, mtime or inode change.
 */
export class ServingReadiness {
  /** Per model, its serving file as last hashed. */
  private readonly hashed = new Map<string, Hashed>();

  constructor(
    private readonly store: ModelStore,
    private readonly pool: SessionPool,
  ) {}

  /** Why the first serving version that cannot answer cannot, or undefined when all can. */
  async problem(): Promise<string | undefined> {
    for (const summary of this.store.list()) {
      const active = this.store.active(summary.model);
      const problem = active && (await this.problemOf(active));
      if (problem) return problem;
    }
    return undefined;
  }

  /** Why the model cannot answer, or undefined when it can; not_found for a model the store does not hold. */
  async modelProblem(model: string): Promise<string | undefined> {
    const active = this.store.active(model);
    if (active) return this.problemOf(active);
    this.store.requireVersions(model);
    return `model ${model} has no active version`;
  }

  private async problemOf(version: ModelVersion): Promise<string | undefined> {
    const { model, version: number, path } = version;
    const known = this.pool.known(model, number);
    if (known && "loaded" in known) return undefined;
    const stat = statSync(path, { throwIfNoEntry: false });
    if (!stat) return `model ${model} version ${number}: ${path} is missing`;
    if (known?.mtimeMs === stat.mtimeMs) return known.failed;
    const stamp = `${stat.size}:${stat.mtimeMs}:${stat.ino}`;
    let hashed = this.hashed.get(model);
    if (hashed?.path !== path || hashed.stamp !== stamp) {
      hashed = { path, stamp, damage: damageOf(version) };
      this.hashed.set(model, hashed);
    }
    const damage = await hashed.damage;
    return damage && `model ${model} version ${number}: ${damage}`;
  }
}
