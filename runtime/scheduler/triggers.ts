import { EdgetrainError, messageOf } from "../errors.ts";
import type { TriggerHooks } from "../plugin-api.ts";
import { pluginUses } from "../plugins/check-options.ts";
import { instantiate, pluginFailed } from "../plugins/instantiate.ts";
import type { SchedulerParts } from "./scheduler.ts";

/**
 * Starts the triggers of the enabled jobs, each firing `fired`; how to stop each goes into `watchers`. A trigger
 * whose setup() or watch() throws does not keep the others from starting; all failures are then thrown as one.
 */
export async function startTriggers(
  parts: Pick<SchedulerParts, "profile" | "registry" | "logger" | "paths" | "clock" | "events" | "state" | "runner">,
  fired: (job: string, reason: string, keys?: Array<string | undefined>) => void,
  watchers: Array<() => void>,
): Promise<void> {
  const uses = pluginUses(parts.profile as unknown as Record<string, unknown>).filter((use) => use.kind === "trigger");
  const failures: string[] = [];
  for (const use of uses) {
    const job = String(use.optionsPath[1]);
    if (!parts.profile.jobs[job]?.enabled) continue;
    const index = Number(use.optionsPath[3]);
    const logger = parts.logger.child({ job, trigger: use.name });
    try {
      const hooks = await instantiate("trigger", use.name, use.options, {
        plugins: parts.registry,
        logger,
        paths: parts.paths,
        clock: parts.clock,
        events: parts.events,
        store: parts.state.pluginStore(`trigger/${use.name}/${job}/${index}`),
        job: parts.runner.jobInfo(job),
      });
      const stop = watch(hooks, use.name, parts.registry.get("trigger", use.name)?.source ?? "built-in", (fire) =>
        fired(job, `${use.name}: ${fire.reason}`, fire.keys),
      );
      if (stop) watchers.push(stop);
    } catch (error) {
      logger.error("trigger failed to start", { error: messageOf(error) });
      failures.push(`jobs.${job}.triggers[${index}]  ${messageOf(error)}`);
    }
  }
  if (failures.length > 0) {
    throw new EdgetrainError("plugin_load_failed", `${failures.length} trigger(s) failed to start`, {
      details: { problems: failures },
    });
  }
}

/** Calls the trigger's watch(); a throw there is the plugin's fault, named with its file like one in setup(). */
function watch(hooks: TriggerHooks, name: string, file: string, fire: Parameters<TriggerHooks["watch"]>[0]) {
  try {
    return hooks.watch(fire);
  } catch (error) {
    throw pluginFailed("trigger", name, file, "watch", error);
  }
}
