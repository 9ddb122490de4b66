import type { OptionsOf, PluginContext, PluginLibraries, PluginModule, TriggerFire } from "../../runtime/plugin-api.ts";

const options = ({ v, duration }: PluginLibraries) =>
  v.strictObject({
    poll: v.optional(
      v.pipe(
        duration,
        v.description("How often the data folder is scanned. Polling works where inotify does not (NFS, SMB, FUSE)."),
      ),
      "10s",
    ),
    debounce: v.optional(
      v.pipe(duration, v.description("Deprecated: set the job's data.debounce, which the loader reads too.")),
    ),
  });

type Options = OptionsOf<typeof options>;

/** The key of a job whose data has no keys. */
const ALL_KEYS = "";

/**
 * Fires when a job's data changes, only for the keys whose files changed (a new session of player_7 fires
 * player_7). It polls, so it works on filesystems without inotify; a change must stay quiet for the data
 * source's `debounce` before it fires. The last fingerprints are kept in state: data that changed while
 * edgetrain was down fires at start.
 */
function newDataTrigger(context: PluginContext<Options>) {
  const { clock, store, job, data, options } = context;
  if (options.debounce !== undefined) {
    const instead = `jobs.${job?.name}.data.debounce`;
    const debounce = options.debounce;
    context.logger.warn(`the new-data trigger's debounce is deprecated: set ${instead} instead`, { debounce });
  }
  const debounceMs = options.debounce === undefined ? data.debounceMs : context.libraries.durationMs(options.debounce);
  return {
    watch(fire: (event: TriggerFire) => void) {
      const pollMs = context.libraries.durationMs(options.poll);
      /** What the job last ran on (or first saw), kept across restarts. */
      let known = store.get<Record<string, string>>("snapshot") ?? data.fingerprints();
      store.set("snapshot", known);
      const changes = data.changes(known, debounceMs);
      let recheck: unknown;
      const scan = () => {
        const now = data.fingerprints();
        const { settled, wakeAt } = changes.look(now, clock.now());
        // Quiet periods still running: look again as soon as the first one ends, not a whole poll later.
        clock.clearTimeout(recheck);
        if (wakeAt !== undefined) recheck = clock.setTimeout(scan, Math.max(0, wakeAt - clock.now()));
        if (settled.length === 0) return;
        const changed = settled.filter((key) => now[key] !== undefined && now[key] !== known[key]);
        known = { ...known };
        for (const key of settled) {
          if (now[key] === undefined) delete known[key];
          else known[key] = now[key]!;
        }
        store.set("snapshot", known);
        if (changed.length === 0) return;
        fire(
          changed.includes(ALL_KEYS)
            ? { reason: `new data in ${String(job?.data?.path)}` }
            : { keys: changed.sort(), reason: `new data for ${changed.join(", ")}` },
        );
      };
      const timer = clock.setInterval(scan, pollMs);
      scan();
      return () => {
        clock.clearInterval(timer);
        clock.clearTimeout(recheck);
      };
    },
  };
}

export default {
  kind: "trigger",
  name: "new-data",
  version: "1.1.0",
  description: "Runs a job for the keys whose data files changed (polling, debounced).",
  options,
  setup: newDataTrigger,
} satisfies PluginModule<"trigger", ReturnType<typeof options>>;
