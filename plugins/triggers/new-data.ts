import { readdirSync, statSync } from "node:fs";
import { basename, join } from "node:path";
import type { OptionsOf, PluginContext, PluginLibraries, PluginModule, TriggerFire } from "../../runtime/plugin-api.ts";

const options = ({ v, duration }: PluginLibraries) =>
  v.strictObject({
    poll: v.optional(v.pipe(duration, v.description("How often the data folder is scanned. Polling works where inotify does not (NFS, SMB, FUSE).")), "10s"),
    debounce: v.optional(v.pipe(duration, v.description("A change must be quiet this long before it fires: a file still being copied does not.")), "3s"),
  });

type Options = OptionsOf<typeof options>;

/** Key → fingerprint of its files (name, size, mtime). */
type Snapshot = Record<string, string>;

const ALL_KEYS = "";

function filesUnder(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true }).map(String).filter((name) => name.endsWith(".csv")).sort();
  } catch {
    return [];
  }
}

function fingerprint(dir: string, names: string[]): string {
  return names
    .map((name) => {
      try {
        const stats = statSync(join(dir, name));
        return `${name}:${stats.size}:${stats.mtimeMs}`;
      } catch {
        return `${name}:gone`;
      }
    })
    .join("|");
}

/** What the job's data looks like now, per key: sessions by subfolder, rows by file (key_from: file) or as a whole. */
function snapshot(dataRoot: string, data: Readonly<Record<string, unknown>> | undefined): Snapshot {
  if (!data || typeof data.path !== "string") return {};
  const root = join(dataRoot, data.path);
  if (data.source === "sessions") {
    const keys = (() => {
      try {
        return readdirSync(root, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name);
      } catch {
        return [];
      }
    })();
    return Object.fromEntries(keys.map((key) => [key, fingerprint(join(root, key), filesUnder(join(root, key)))]));
  }
  const isFile = (() => {
    try {
      return statSync(root).isFile();
    } catch {
      return false;
    }
  })();
  if (isFile) return { [ALL_KEYS]: fingerprint(root, [""]) };
  const names = filesUnder(root);
  if (data.key_from === "file") return Object.fromEntries(names.map((name) => [basename(name, ".csv"), fingerprint(root, [name])]));
  return { [ALL_KEYS]: fingerprint(root, names) };
}

/**
 * Fires when a job's data changes, only for the keys whose files changed (a new session of player_7 fires
 * player_7). It polls, so it works on filesystems without inotify; a change must stay quiet for `debounce`
 * before it fires. The last snapshot is kept in state: data that changed while edgetrain was down fires at start.
 */
function newDataTrigger(context: PluginContext<Options>) {
  return {
    watch(fire: (event: TriggerFire) => void) {
      const { clock, store, job, paths } = context;
      const pollMs = context.libraries.durationMs(context.options.poll);
      const debounceMs = context.libraries.durationMs(context.options.debounce);
      /** What the job last ran on (or first saw), kept across restarts. */
      let known: Snapshot = store.get<Snapshot>("snapshot") ?? snapshot(paths.data, job?.data);
      store.set("snapshot", known);
      let lastSeen = known;
      /** Keys whose files changed, and when they last changed. */
      const pending = new Map<string, number>();
      let recheck: unknown;
      const scan = () => {
        const now = snapshot(paths.data, job?.data);
        for (const key of new Set([...Object.keys(now), ...Object.keys(lastSeen)])) if (now[key] !== lastSeen[key]) pending.set(key, clock.now());
        lastSeen = now;
        const ready = [...pending].filter(([, changedAt]) => clock.now() - changedAt >= debounceMs).map(([key]) => key);
        for (const key of ready) pending.delete(key);
        // Quiet periods still running: look again as soon as the first one ends, not a whole poll later.
        clock.clearTimeout(recheck);
        if (pending.size > 0) recheck = clock.setTimeout(scan, Math.max(0, Math.min(...pending.values()) + debounceMs - clock.now()));
        const changed = ready.filter((key) => now[key] !== undefined && now[key] !== known[key]);
        if (ready.length === 0) return;
        known = { ...known };
        for (const key of ready) {
          if (now[key] === undefined) delete known[key];
          else known[key] = now[key]!;
        }
        store.set("snapshot", known);
        if (changed.length === 0) return;
        fire(changed.includes(ALL_KEYS) ? { reason: `new data in ${String(job?.data?.path)}` } : { keys: changed.sort(), reason: `new data for ${changed.join(", ")}` });
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
  version: "1.0.0",
  description: "Runs a job for the keys whose data files changed (polling, debounced).",
  options,
  setup: newDataTrigger,
} satisfies PluginModule<"trigger", ReturnType<typeof options>>;
