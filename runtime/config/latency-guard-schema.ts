import * as v from "valibot";
import { durationAtLeast } from "./duration.ts";

const doc = v.description;

/** `governor.latency_guard`: training yields threads while it slows the daemon's answers. */
export const LatencyGuardSchema = v.strictObject({
  enabled: v.optional(
    v.pipe(
      v.boolean(),
      doc(
        "While runs train, the daemon watches how late its own thread answers, and takes training threads away (then " +
          "rests the last one part of the time, down to pausing the run) while that passes the target.",
      ),
    ),
    true,
  ),
  p99_ms: v.optional(
    v.pipe(
      v.number(),
      // A target of 0 would throttle every window and never release: runs paused until max_pause, again and again.
      v.gtValue(0, "a p99 target above 0 ms (turn the guard off with enabled: false)"),
      doc(
        "An absolute target in ms for the p99 of how long the serving thread is kept from its work in each 10 ms " +
          "(how late a 10 ms timer fires, or its wait for a CPU if longer); when set, factor is not used.",
      ),
    ),
  ),
  factor: v.optional(
    v.pipe(
      v.number(),
      v.minValue(1),
      doc(
        "The target as a multiple of the p99 the daemon learns while no run trains, at a similar request rate " +
          "(within 2×); until it has seen such a window, the guard waits.",
      ),
    ),
    1.5,
  ),
  // At least ten of the signal's 10 ms samples for a p99; 0 would turn the guard off unsaid (enabled: false says it).
  window: v.optional(durationAtLeast("100ms"), "5s"),
  pause_after: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      doc(
        "Windows read together: once the p99 over the latest pause_after windows passes the target, one thread or " +
          "trainer is taken away (past the last one: it trains 75, 50, then 25 % of each 2 s, then the run pauses); " +
          "once it stays under 0.7× the target as long, one step is given back (a release taken back soon after " +
          "waits twice as long next time, up to 16×).",
      ),
    ),
    2,
  ),
});
