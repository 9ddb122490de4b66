import type { QueueEntry } from "./run-queue.ts";
import type { StartAdmission } from "./start-admission.ts";

type Deferral = Extract<StartAdmission, { ok: false }>;

/**
 * Records a deferral of the queue when its cause changes (which limit, not its figure: CPU 93 % then 95 % is
 * one deferral), not on every governor sample, until runs start again. A run that ignores the governor
 * starting says nothing of the governor: only a full disk's deferral ends then.
 */
export class DeferralNotes {
  private last?: { cause: Deferral["cause"]; everyone: boolean };

  constructor(private readonly record: (entry: QueueEntry, reason: string) => void) {}

  /** The first entry of the queue that may not start, and why. */
  deferred(entry: QueueEntry, deferral: Deferral): void {
    if (deferral.cause !== this.last?.cause) this.record(entry, deferral.reason);
    this.last = { cause: deferral.cause, everyone: "everyone" in deferral };
  }

  /** A run was admitted; `ignoringGovernor`: one told to ignore the governor, past any deferral of its. */
  admitted(ignoringGovernor: boolean): void {
    if (!ignoringGovernor || this.last?.everyone) this.last = undefined;
  }
}
