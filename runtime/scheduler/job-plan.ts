import { Cron } from "croner";
import type { Profile } from "../config/schema.ts";
import { jobPolicy } from "../conflicts/clearance.ts";
import type { OffPeak } from "../offpeak/learn.ts";
import { msToNextWindow } from "../offpeak/windows.ts";

export interface JobPlan {
  job: string;
  triggers: string[];
  /** The next time it will run, when a schedule says; ISO 8601. */
  next?: string;
  why: string;
}

/**
 * For every job: its triggers, the next time it will run and why (cron, off-peak windows, predictors). For plan, the
 * API and the TUI.
 */
export function planJobs(profile: Profile, offPeak: Pick<OffPeak, "windows" | "note">, now: number): JobPlan[] {
  return Object.entries(profile.jobs).map(([name, job]) => {
    const triggers = job.triggers.map((trigger) =>
      trigger.type === "cron" ? `cron ${String(trigger.schedule)}` : String(trigger.type),
    );
    const cronTimes = job.triggers
      .filter((trigger) => trigger.type === "cron" && typeof trigger.schedule === "string")
      .map((trigger) =>
        new Cron(String(trigger.schedule), { paused: true, timezone: trigger.timezone as string | undefined })
          .nextRun(new Date(now))
          ?.getTime(),
      )
      .filter((t): t is number => t !== undefined);
    let next = cronTimes.length ? Math.min(...cronTimes) : undefined;
    const reasons: string[] = [];
    if (!job.enabled) reasons.push("disabled");
    if (cronTimes.length) reasons.push(`cron schedule`);
    for (const kind of ["new-data", "samples-above", "model-missing", "accuracy-below"])
      if (triggers.includes(kind)) reasons.push(`${kind}: when its data says so`);
    if (triggers.length === 0 || (triggers.length === 1 && triggers[0] === "manual"))
      reasons.push("only by hand (edgetrain train)");
    if (job.constraints.only_in === "off-peak") {
      if (offPeak.windows.length === 0) reasons.push(`only_in off-peak, but ${offPeak.note}: runs when triggered`);
      else {
        const wait = msToNextWindow(offPeak.windows, next ?? now, profile.usage.timezone) ?? 0;
        if (next !== undefined) next += wait;
        else next = now + wait;
        reasons.push(`only_in off-peak (${offPeak.windows.map((w) => w.label).join(", ")})`);
      }
    }
    if (job.constraints.not_during?.length)
      reasons.push(`not while ${job.constraints.not_during.join(", ")} predicts (${jobPolicy(profile, name)})`);
    return {
      job: name,
      triggers,
      next: next !== undefined && job.enabled ? new Date(next).toISOString() : undefined,
      why: reasons.join("; "),
    };
  });
}
