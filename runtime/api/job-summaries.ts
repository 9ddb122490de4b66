import type { Profile } from "../config/schema.ts";
import { windowHours } from "../offpeak/windows.ts";
import { planJobs } from "../scheduler/job-plan.ts";
import type { Scheduler } from "../scheduler/scheduler.ts";
import type { StateDatabase } from "../state/database.ts";
import { listRuns } from "../state/runs.ts";
import { jobPlugin } from "../training/job-plugin.ts";
import type { DaemonView } from "./daemon-view.ts";

/** `GET /v1/jobs`: each job with its last run and when it runs next, and why. */
export function jobSummaries(
  profile: Profile,
  scheduler: Scheduler | undefined,
  state: StateDatabase,
): ReturnType<DaemonView["jobs"]> {
  const plans = planJobs(profile, scheduler?.offPeak ?? { windows: [], note: "not learned yet" }, Date.now());
  return Object.entries(profile.jobs).map(([name, job]) => {
    const plan = plans.find((p) => p.job === name);
    return {
      name,
      strategy: jobPlugin(job).name,
      enabled: job.enabled,
      priority: job.priority,
      triggers: job.triggers.map((trigger) => String(trigger.type)),
      last_run: listRuns(state.db, { job: name, limit: 1 })[0],
      next: plan?.next,
      why: plan?.why ?? "",
    };
  });
}

/** The off-peak windows learnt, with the hour scores they come from once there is activity. */
export function offPeakSummary(scheduler: Scheduler | undefined): ReturnType<DaemonView["offPeak"]> {
  const offPeak = scheduler?.offPeak;
  const windows = (offPeak?.windows ?? []).map((w) => w.label);
  if (!offPeak?.activity.points) return { windows, note: offPeak?.note };
  const { activity, note } = offPeak;
  return { windows, note, hour_scores: activity.score, window_hours: windowHours(offPeak.windows) };
}
