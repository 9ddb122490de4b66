import { EdgetrainError } from "../errors.ts";

/**
 * Named points on the way from a run's end to its model serving. EDGETRAIN_CRASH_AT names one, and the
 * process kills itself there with SIGKILL, as a power cut would: crash tests stop it at an exact step.
 */
export const CRASH_POINTS = ["after-run-recorded", "after-version-added", "before-activate", "after-activate"] as const;
export type CrashPoint = (typeof CRASH_POINTS)[number];

let armed: CrashPoint | undefined;

/** Called once at start with EDGETRAIN_CRASH_AT; a name that is not a point is refused rather than never firing. */
export function armCrashPoint(name: string | undefined): void {
  if (name === undefined) return;
  if (!(CRASH_POINTS as readonly string[]).includes(name)) {
    throw new EdgetrainError("usage", `EDGETRAIN_CRASH_AT="${name}" is not a crash point`, {
      hint: `crash points: ${CRASH_POINTS.join(", ")}`,
    });
  }
  armed = name as CrashPoint;
}

export function crashPoint(point: CrashPoint): void {
  if (armed === point) process.kill(process.pid, "SIGKILL");
}
