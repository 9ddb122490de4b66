import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { LatencySignal } from "../../runtime/governor/latency-signal.ts";
import { runQueueWaitMs } from "../../runtime/governor/run-queue-wait.ts";
import { tempDir } from "../helpers.ts";

/** Waits (real time: the signal samples on a real timer) until the signal holds `samples` samples. */
async function sampled(signal: LatencySignal, samples: number) {
  const probe = signal as unknown as { delays: { count: number } };
  for (let waited = 0; probe.delays.count < samples && waited < 10_000; waited += 5) await Bun.sleep(5);
  return signal.take(performance.now());
}

describe("the latency guard's signal", () => {
  test("counts the serving thread's wait for a CPU when it passes the timer's lateness", async () => {
    let waited = 0;
    // The kernel's run_delay as this fake reports it: 7 ms more at each sample, as behind a stalled core.
    const signal = new LatencySignal(performance.now(), () => (waited += 7));
    signal.answered();
    const window = await sampled(signal, 3);
    signal.stop();
    expect(window.answers).toBe(1);
    expect(window.p99Ms).toBeGreaterThanOrEqual(7);
    expect(window.delays!.percentile(0.01)).toBeGreaterThanOrEqual(7);
  });

  test("falls back to the timer's lateness where the wait for a CPU is unknown", async () => {
    const signal = new LatencySignal(performance.now(), () => undefined);
    signal.answered();
    const window = await sampled(signal, 2);
    signal.stop();
    expect(window.delays!.count).toBeGreaterThanOrEqual(2);
    expect(window.p99Ms).toBeGreaterThanOrEqual(0);
  });
});

describe("the serving thread's wait for a CPU", () => {
  test("is read from the kernel's scheduler statistics for the calling thread, in ms", async () => {
    const first = runQueueWaitMs();
    expect(first).toBeNumber();
    expect(first).toBeGreaterThanOrEqual(0);
    await Bun.sleep(20);
    expect(runQueueWaitMs()).toBeGreaterThanOrEqual(first!);
  });

  test("reads the run_delay field of a schedstat line, and says unknown without one", async () => {
    await using dir = tempDir();
    const file = join(dir.path, "schedstat");
    writeFileSync(file, "1054708 8521970 10\n");
    expect(runQueueWaitMs(file)).toBeCloseTo(8.52197, 6);
    writeFileSync(file, "");
    expect(runQueueWaitMs(file)).toBeUndefined();
    expect(runQueueWaitMs(join(dir.path, "missing"))).toBeUndefined();
  });
});
