import type { EventPayloads, EventType } from "../events/bus.ts";
import { learnOffPeak, type OffPeak } from "../offpeak/learn.ts";
import { usageSources } from "../offpeak/usage-sources.ts";
import { msToNextWindow } from "../offpeak/windows.ts";
import type { RunOverrides } from "../training/run-overrides.ts";
import type { SchedulerParts } from "./scheduler.ts";

/** A queued run as the off-peak gate sees it. */
export interface OffPeakEntry {
  job: string;
  key?: string;
  overrides: RunOverrides;
  /** The off-peak deferral already recorded for this entry, so it is recorded once. */
  offPeakNoted?: boolean;
}

/** The scheduler's off-peak windows: learnt from the usage history, and whether a queued run may start now. */
export class OffPeakGate {
  /** Learned from the usage history at start and every hour; undefined until the first reading. */
  learned?: OffPeak;

  constructor(
    private readonly parts: Pick<SchedulerParts, "profile" | "paths" | "clock" | "state">,
    private readonly decide: <T extends EventType>(type: T, data: EventPayloads[T]) => void,
  ) {}

  async learn(): Promise<void> {
    const { profile, paths, clock } = this.parts;
    const offPeakJobs = Object.values(profile.jobs).some((job) => job.constraints.only_in === "off-peak");
    if (!offPeakJobs && usageSources(profile.usage).length === 0) return;
    this.learned = await learnOffPeak(profile.usage, paths, clock.now(), this.parts.state.db);
    this.decide("offpeak.learned", {
      windows: this.learned.windows.map((w) => w.label),
      points: this.learned.activity.points,
      note: this.learned.note,
    });
  }

  /**
   * Jobs with `only_in: off-peak` start only inside a learned window; without trusted windows they run, and that is
   * said.
   */
  admits(entry: OffPeakEntry): boolean {
    const offPeakOnly = this.parts.profile.jobs[entry.job]?.constraints.only_in === "off-peak";
    if (entry.overrides.ignoreGovernor || !offPeakOnly) return true;
    const windows = this.learned?.windows ?? [];
    if (windows.length === 0) {
      if (!entry.offPeakNoted)
        this.decide("offpeak.unknown", {
          job: entry.job,
          key: entry.key,
          reason: `${this.learned?.note ?? "off-peak windows not learned yet"}; running anyway`,
        });
      entry.offPeakNoted = true;
      return true;
    }
    const now = this.parts.clock.now();
    const wait = msToNextWindow(windows, now, this.parts.profile.usage.timezone);
    if (wait === 0) return true;
    if (!entry.offPeakNoted)
      this.decide("run.deferred", {
        job: entry.job,
        key: entry.key,
        reason:
          `outside the off-peak windows (${windows.map((w) => w.label).join(", ")}); next opens ` +
          `${new Date(now + (wait ?? 0)).toISOString()}`,
      });
    entry.offPeakNoted = true;
    return false;
  }
}
