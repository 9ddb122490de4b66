import type { DiskSpace } from "../files/disk-space.ts";
import type { Admission } from "../governor/admission.ts";
import type { Governor } from "../governor/governor.ts";

export interface StartGate {
  governor: Pick<Governor, "admit">;
  /** The home's disk; without it (tests, one-shot commands) runs start regardless. */
  disk?: Pick<DiskSpace, "hasRoom" | "message">;
}

/** `everyone`: a deferral that holds back runs told to ignore the governor too (a full disk). */
export type StartAdmission = Admission | { ok: false; reason: string; cause: "disk"; everyone: true };

/**
 * Whether a queued run may start now, and if not why: the scheduler starts runs by it and status shows it,
 * so the two never disagree. A full disk holds back even a run told to ignore the governor: it would only fail.
 */
export function startAdmission(gate: StartGate, ignoreGovernor = false): StartAdmission {
  if (gate.disk && !gate.disk.hasRoom()) {
    const reason = `${gate.disk.message()}; runs start again once space is back`;
    return { ok: false, reason, cause: "disk", everyone: true };
  }
  return ignoreGovernor ? { ok: true } : gate.governor.admit();
}
