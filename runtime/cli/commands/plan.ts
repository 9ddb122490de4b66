import { weekHeatMap } from "../../../tui/week-heat-map.ts";
import { learnOffPeak } from "../../offpeak/learn.ts";
import { describeSource, usageSources } from "../../offpeak/usage-sources.ts";
import { windowHours } from "../../offpeak/windows.ts";
import { planJobs } from "../../scheduler/job-plan.ts";
import type { Command } from "../command.ts";
import { homeOptions, openHomeStateAt, resolveHomeProfile } from "../home.ts";
import { writeJson } from "../json-answer.ts";

export const planCommand: Command = {
  name: "plan",
  summary: "the learned off-peak windows as a week heat-map, and when each job will run next and why",
  description:
    "Reads the usage history (usage.source: self, sql or csv), scores every hour of the week, shows it as a heat-map " +
    "with the chosen off-peak windows marked W, and for every job its triggers, the next time it will run and why.",
  options: { json: { type: "boolean", description: "print {offpeak, jobs} as JSON" }, ...homeOptions },
  examples: ["edgetrain plan", "edgetrain plan --profile ./game-server.yaml --json"],
  async run(args, io) {
    const { profile, paths } = await resolveHomeProfile(args, io);
    const now = Date.now();
    // `self` history lives in the home's state database.
    const sources = usageSources(profile.usage);
    const state = sources.some((source) => source.type === "self") ? openHomeStateAt(paths) : undefined;
    const offPeak = await learnOffPeak(profile.usage, paths, now, state?.db).finally(() => state?.close());
    const jobs = planJobs(profile, offPeak, now);
    if (args.values.json) {
      writeJson(
        io,
        {
          offpeak: {
            windows: offPeak.windows,
            points: offPeak.activity.points,
            trusted: offPeak.activity.trusted,
            note: offPeak.note,
            score: offPeak.activity.score,
          },
          jobs,
        },
        { indent: true },
      );
      return 0;
    }
    const from = sources.map(describeSource).join(", ") || "none";
    io.stdout.write(
      `Activity by hour of the week (${from}, last ${profile.usage.history_days} days, ${offPeak.activity.points} ` +
        `observations${profile.usage.timezone ? `, ${profile.usage.timezone}` : ""}):\n`,
    );
    io.stdout.write(`${weekHeatMap(offPeak.activity.score, windowHours(offPeak.windows)).join("\n")}\n`);
    io.stdout.write(
      offPeak.windows.length
        ? `off-peak windows (W): ${offPeak.windows.map((w) => `${w.label} (score ${w.score.toFixed(2)})`).join(", ")}\n`
        : `no off-peak windows: ${offPeak.note}\n`,
    );
    // Windows learnt in spite of something (a source left out, unreadable rows) still say what it was.
    if (offPeak.windows.length && offPeak.note) io.stdout.write(`note: ${offPeak.note}\n`);
    io.stdout.write("\nJOB  NEXT RUN  WHY\n");
    for (const plan of jobs) io.stdout.write(`${plan.job}  ${plan.next ?? "-"}  ${plan.why}\n`);
    return 0;
  },
};
