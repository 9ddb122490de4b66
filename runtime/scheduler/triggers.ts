import { pluginUses } from "../plugins/check-options.ts";
import { instantiate } from "../plugins/instantiate.ts";
import type { SchedulerParts } from "./scheduler.ts";

/** Starts the triggers of the enabled jobs, each firing `fired`; how to stop each goes into `watchers`. */
export async function startTriggers(
  parts: Pick<SchedulerParts, "profile" | "registry" | "logger" | "paths" | "clock" | "events" | "state" | "runner">,
  fired: (job: string, reason: string, keys?: Array<string | undefined>) => void,
  watchers: Array<() => void>,
): Promise<void> {
  const uses = pluginUses(parts.profile as unknown as Record<string, unknown>).filter((use) => use.kind === "trigger");
  for (const use of uses) {
    const job = String(use.optionsPath[1]);
    if (!parts.profile.jobs[job]?.enabled) continue;
    const index = Number(use.optionsPath[3]);
    const hooks = await instantiate("trigger", use.name, use.options, {
      plugins: parts.registry,
      logger: parts.logger.child({ job, trigger: use.name }),
      paths: parts.paths,
      clock: parts.clock,
      events: parts.events,
      store: parts.state.pluginStore(`trigger/${use.name}/${job}/${index}`),
      job: parts.runner.jobInfo(job),
    });
    const stop = hooks.watch((fire) => fired(job, `${use.name}: ${fire.reason}`, fire.keys));
    if (stop) watchers.push(stop);
  }
}
