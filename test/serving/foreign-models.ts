import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { repoRoot } from "../helpers.ts";

/** Debian's Python, which has python3-onnx and python3-torch; a pyenv python3 first on PATH lacks them. */
const PYTHON = "/usr/bin/python3";

export type ForeignKind = "torch" | "image" | "two-input" | "zipmap";

export interface ForeignModel {
  /** The ONNX file, as the framework exported it. */
  model: string;
  /** A few inputs by name, and the framework's own answers to them by output name. */
  inputs: Record<string, unknown[]>;
  expected: Record<string, unknown[]>;
}

/**
 * Exports a model with the framework itself (test/fixtures/foreign-models.py), once per test file; a string
 * says why it cannot be made here (a missing module), for `test.skipIf`.
 */
export function foreignModel(kind: ForeignKind): ForeignModel | string {
  const out = mkdtempSync(join(tmpdir(), `edgetrain-${kind}-`));
  const run = Bun.spawnSync([PYTHON, join(repoRoot, "test/fixtures/foreign-models.py"), kind, out], { stderr: "pipe" });
  if (run.exitCode === 3)
    return `python3 module ${run.stderr.toString().trim()} is not installed (apt install python3-torch python3-onnx)`;
  if (run.exitCode !== 0)
    return `${PYTHON} did not run (${run.exitCode}): ${run.stderr.toString().trim().split("\n").at(-1)}`;
  return JSON.parse(run.stdout.toString()) as ForeignModel;
}

/** Each value of `actual` within `tolerance` of `expected`, however deeply nested in arrays and objects. */
export function closeTo(actual: unknown, expected: unknown, tolerance = 1e-5): boolean {
  if (Array.isArray(expected))
    return (
      Array.isArray(actual) &&
      actual.length === expected.length &&
      expected.every((e, i) => closeTo(actual[i], e, tolerance))
    );
  if (typeof expected === "number") return typeof actual === "number" && Math.abs(actual - expected) <= tolerance;
  if (expected !== null && typeof expected === "object") {
    if (actual === null || typeof actual !== "object" || Array.isArray(actual)) return false;
    const keys = Object.keys(expected);
    return (
      keys.length === Object.keys(actual).length &&
      keys.every((key) =>
        closeTo((actual as Record<string, unknown>)[key], (expected as Record<string, unknown>)[key], tolerance),
      )
    );
  }
  return actual === expected;
}

export type FrameworkKind =
  | "random-forest-classifier"
  | "extra-trees-classifier"
  | "random-forest-regressor"
  | "extra-trees-regressor"
  | "gradient-boosting"
  | "torch-script"
  | "torch-module"
  | "torch-state-dict"
  | "torch-main-class"
  | "torch-image"
  | "keras";

/** A model file as its framework saves it (a pickle, a .pt), with the framework's own answers on a test set. */
export interface FrameworkModel {
  model: string;
  rows: unknown[];
  expected: { labels?: string[]; probabilities?: number[][]; values?: number[]; outputs?: unknown[] };
}

/**
 * Trains and saves a model with scikit-learn or PyTorch (test/fixtures/framework-models.py); a string says
 * why it cannot be made here (a missing module), for `test.skipIf`.
 */
export function frameworkModel(kind: FrameworkKind): FrameworkModel | string {
  const out = mkdtempSync(join(tmpdir(), `edgetrain-${kind}-`));
  const script = join(repoRoot, "test/fixtures/framework-models.py");
  const run = Bun.spawnSync([PYTHON, script, kind, out], { stderr: "pipe" });
  if (run.exitCode === 3) return `python3 module ${run.stderr.toString().trim()} is not installed for ${PYTHON}`;
  if (run.exitCode !== 0)
    return `${PYTHON} did not run (${run.exitCode}): ${run.stderr.toString().trim().split("\n").at(-1)}`;
  return JSON.parse(run.stdout.toString()) as FrameworkModel;
}

/** Each value within `tolerance` of the expected one relative to its size (at least 1): float32 outputs. */
export function closeToRelative(actual: number[], expected: number[], tolerance = 1e-5): boolean {
  return (
    actual.length === expected.length &&
    expected.every((e, i) => Math.abs(actual[i]! - e) <= tolerance * Math.max(1, Math.abs(e)))
  );
}
