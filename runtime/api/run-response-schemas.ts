import * as v from "valibot";
import { Count, JobPlugin, Metrics, Text, UnixMs } from "./response-fields.ts";

/** What the run and job routes answer (part of response-schemas.ts). */

const RunSummaryEntries = {
  id: Text,
  job: Text,
  key: v.nullable(Text),
  strategy: Text,
  trigger: v.pipe(v.string(), v.description("What asked for the run: a trigger's reason, or manual.")),
  status: v.pipe(
    v.string(),
    v.description("queued, running, paused, stalled, succeeded, failed, cancelled or interrupted."),
  ),
  created_at: UnixMs("When the run was recorded"),
  started_at: v.nullable(UnixMs("When it started")),
  ended_at: v.nullable(UnixMs("When it ended")),
  progress: v.nullable(v.pipe(v.number(), v.description("From 0 to 1."))),
  message: v.nullable(Text),
  metrics: v.nullable(Metrics),
  error: v.nullable(Text),
};
export const RunSummary = v.object(RunSummaryEntries);
export const RunDetail = v.object({
  ...RunSummaryEntries,
  details: v.pipe(
    v.unknown(),
    v.description("What the run left: heartbeats, checkpoints, the deployment, the data window."),
  ),
  run_dir: v.nullable(Text),
});
export const RunList = v.object({ runs: v.array(RunSummary) });
export const RunControlled = v.object({
  run: Text,
  action: v.picklist(["cancel", "pause", "resume"]),
  accepted: v.literal(true),
});

export const OffPeak = v.object({
  windows: v.array(Text),
  note: v.optional(v.pipe(v.string(), v.description("Why there are no windows yet."))),
  hour_scores: v.optional(
    v.pipe(
      v.array(v.number()),
      v.description(
        "Activity per hour of the week, 168 values from Sunday 00:00 (usage.timezone), 0 quietest … 1 busiest; " +
          "absent until learned.",
      ),
    ),
  ),
  window_hours: v.optional(
    v.pipe(v.array(Count), v.description("The hours of the week (counted as in hour_scores) in an off-peak window.")),
  ),
});
export const JobSummary = v.object({
  name: Text,
  strategy: JobPlugin,
  enabled: v.boolean(),
  priority: Count,
  triggers: v.array(Text),
  last_run: v.optional(RunSummary),
  next: v.optional(v.pipe(v.string(), v.description("When it runs next, in words."))),
  why: Text,
});
export const JobList = v.object({ jobs: v.array(JobSummary), offpeak: OffPeak });
const KeyRequested = v.object({
  key: v.nullable(Text),
  result: v.pipe(
    v.picklist(["queued", "upgraded", "already_queued", "running"]),
    v.description(
      "queued anew; upgraded: already queued, it now ignores what was asked; already_queued: nothing to add; " +
        "running: a run of the job and key is in progress, and runs never overlap.",
    ),
  ),
  run: v.optional(v.pipe(Text, v.description("The run in progress, for running."))),
});
export const RunQueued = v.object({
  queued: v.pipe(
    v.boolean(),
    v.description("A run was queued, or one already queued now ignores what was asked (202); false: neither (200)."),
  ),
  job: Text,
  key: v.nullable(Text),
  force: v.pipe(v.boolean(), v.description("Both the governor and conflicts ignored.")),
  ignore_governor: v.boolean(),
  ignore_conflicts: v.boolean(),
  keys: v.pipe(v.array(KeyRequested), v.description("What became of each key the request covers.")),
  reason: v.optional(
    v.pipe(Text, v.description("Why keys were not queued anew: already queued (and what now changed), running.")),
  ),
});
