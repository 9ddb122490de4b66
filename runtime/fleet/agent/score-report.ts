import * as v from "valibot";
import type { EventPayloads } from "../../api/contract.ts";
import { SCORE_MAX_CLASSES, SCORE_MAX_LABEL, ScoreReport } from "../protocol.ts";

const ScoreFigures = v.omit(ScoreReport, ["id", "device", "at"]);
type ScoreFigures = v.InferOutput<typeof ScoreFigures>;

/**
 * A score run's `score.summary` event as the report the hub keeps: the figures drift detection compares,
 * without the per-file detail and skipped-row examples. The histogram keeps its most frequent classes (the
 * rest counted in `other_rows`) and labels are cut, so that a long tail of labels cannot make it unbounded.
 * `fleetVersion`: the hub's number for the version that scored (fleetVersionOf), which the hub groups by.
 */
export function scoreReport(
  summary: EventPayloads["score.summary"],
  fleetVersion: number | null,
): ScoreFigures | { refused: string } {
  const { run, job, key, model, version, rows, files, classes, values, skipped } = summary;
  const report: ScoreFigures = {
    kind: "score",
    run,
    job,
    ...(key != null && { key }),
    model,
    version,
    fleet_version: fleetVersion,
    rows,
    files: files.length,
    ...(classes && boundedClasses(classes)),
    ...(values && { values }),
    skipped,
  };
  // The hub would refuse it (a regression that predicted NaN, say), and it would wait in the outbox for ever.
  const checked = v.safeParse(ScoreFigures, report);
  if (checked.success) return report;
  const [issue] = checked.issues;
  const path = issue.path?.map((item) => String(item.key)).join(".");
  return { refused: `${path ? `${path}: ` : ""}${issue.message}` };
}

function boundedClasses(classes: Record<string, number>): Pick<ScoreFigures, "classes" | "other_rows"> {
  const byLabel = new Map<string, number>();
  for (const [label, count] of Object.entries(classes)) {
    const cut = label.slice(0, SCORE_MAX_LABEL);
    byLabel.set(cut, (byLabel.get(cut) ?? 0) + count);
  }
  const entries = [...byLabel];
  if (entries.length <= SCORE_MAX_CLASSES) return { classes: Object.fromEntries(entries) };
  const kept = entries.sort(([, a], [, b]) => b - a).slice(0, SCORE_MAX_CLASSES);
  const listed = kept.reduce((sum, [, count]) => sum + count, 0);
  const total = entries.reduce((sum, [, count]) => sum + count, 0);
  return { classes: Object.fromEntries(kept), other_rows: total - listed };
}
