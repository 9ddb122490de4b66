import { EdgetrainError } from "../errors.ts";
import type { ActivePointer } from "./active-pointer.ts";
import { damageOf, type ModelVersion } from "./versions.ts";

/**
 * The version a rollback returns to: the versions that served before the current one, newest first, walked
 * past any whose file is gone or damaged (`skipped`); `rest` is what stays before it.
 */
export async function previousIntact(
  pointer: ActivePointer,
  lookup: (version: number) => ModelVersion | undefined,
): Promise<{ target?: number; rest: number[]; skipped: number[] }> {
  const rest = [...pointer.previous];
  const skipped: number[] = [];
  while (rest.length) {
    const candidate = rest.pop()!;
    const version = lookup(candidate);
    if (version && (await damageOf(version)) === undefined) return { target: candidate, rest, skipped };
    skipped.push(candidate);
  }
  return { rest, skipped };
}

/**
 * Why the model cannot roll back from `current`, naming what it can return to instead: a rollback only
 * goes back, but another intact version may be kept. `skipped`: earlier versions found damaged or gone.
 */
export function nothingToRollBackTo(
  model: string,
  current: number,
  skipped: number[],
  kept: ModelVersion[],
  intactKept: ModelVersion[],
): EdgetrainError {
  const others = kept.filter((v) => v.version !== current);
  const intact = intactKept.filter((v) => v.version !== current);
  const why = skipped.length
    ? `has no intact earlier version to roll back to (${skipped.map((v) => `version ${v}`).join(", ")} ` +
      `${skipped.length > 1 ? "are" : "is"} damaged or gone)`
    : "has no earlier version to roll back to";
  let instead = `intact versions it can serve instead: ${intact.map((v) => `${v.version} (${v.status})`).join(", ")}`;
  if (others.length === 0) instead = `version ${current} is the only one kept`;
  else if (intact.length === 0) instead = "no other version kept is intact";
  return new EdgetrainError("conflict", `model ${model} ${why}; ${instead}`, {
    details: { model, version: current, intact: intact.map((v) => v.version) },
    hint: intact.length
      ? `edgetrain activate ${model} ${intact[0]!.version} makes one serve`
      : "a new run of its job trains a version that replaces it",
  });
}
