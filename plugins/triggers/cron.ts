import { Cron } from "croner";
import type { OptionsOf, PluginContext, PluginLibraries, PluginModule, TriggerFire } from "../../runtime/plugin-api.ts";

const options = ({ v }: PluginLibraries) =>
  v.strictObject({
    schedule: v.pipe(
      v.string(),
      v.check((pattern) => {
        try {
          new Cron(pattern, { paused: true });
          return true;
        } catch {
          return false;
        }
      }, 'a cron schedule such as "0 2 * * 0" (minute hour day month weekday; seconds first if 6 fields)'),
    ),
    timezone: v.optional(v.pipe(v.string(), v.description("IANA zone such as Europe/Berlin; default the machine's."))),
    catch_up: v.optional(
      v.pipe(v.boolean(), v.description("After downtime, run a missed fire once when edgetrain comes back.")),
      false,
    ),
  });

type Options = OptionsOf<typeof options>;

// Timers longer than ~24.8 days overflow; long waits are taken in steps and re-checked.
const LONGEST_WAIT_MS = 6 * 3_600_000;

/**
 * Fires on a cron schedule. croner says when; the timer runs on the context's clock, so a test can run a
 * week in milliseconds. croner keeps no state across restarts, so the last fire time lives in the plugin's
 * store, and `catch_up` fires once for a run missed while edgetrain was down.
 */
function cronTrigger(context: PluginContext<Options>) {
  const { schedule, timezone, catch_up } = context.options;
  const cron = new Cron(schedule, { timezone, paused: true });
  return {
    watch(fire: (event: TriggerFire) => void) {
      const { clock, store } = context;
      let timer: unknown;
      let stopped = false;
      const last = store.get<number>("last_fire");
      if (last === undefined) store.set("last_fire", clock.now());
      else if (catch_up) {
        const missed = cron.nextRun(new Date(last));
        if (missed && missed.getTime() <= clock.now()) {
          store.set("last_fire", clock.now());
          fire({ reason: `catch-up: ${schedule} was due at ${missed.toISOString()} while edgetrain was down` });
        }
      }
      const arm = () => {
        if (stopped) return;
        const next = cron.nextRun(new Date(clock.now()));
        if (!next) return;
        const wait = next.getTime() - clock.now();
        timer = clock.setTimeout(
          () => {
            if (clock.now() < next.getTime()) return arm();
            store.set("last_fire", next.getTime());
            fire({ reason: `cron ${schedule} at ${next.toISOString()}` });
            arm();
          },
          Math.min(Math.max(0, wait), LONGEST_WAIT_MS),
        );
      };
      arm();
      return () => {
        stopped = true;
        clock.clearTimeout(timer);
      };
    },
  };
}

export default {
  kind: "trigger",
  name: "cron",
  version: "1.0.0",
  description: "Runs a job on a cron schedule (croner), with timezone and catch-up after downtime.",
  options,
  setup: cronTrigger,
} satisfies PluginModule<"trigger", ReturnType<typeof options>>;
