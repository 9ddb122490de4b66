import { expect, test } from "bun:test";
import { Registry } from "prom-client";
import type { DaemonStatus } from "../../runtime/api/daemon-view.ts";
import { registerDeviceMetrics } from "../../runtime/metrics/device-metrics.ts";
import { STATUS } from "../api/fake-daemon.ts";

test("the latency guard's hold: threads per run, and the share of the time past one thread", async () => {
  let guard = STATUS.governor.latency_guard;
  const registry = new Registry();
  const status = (): DaemonStatus => ({ ...STATUS, governor: { ...STATUS.governor, latency_guard: guard } });
  registerDeviceMetrics(registry, status, () => undefined);
  const sample = async (name: string) => new RegExp(`^${name} (\\S+)$`, "m").exec(await registry.metrics())?.[1];

  expect(await sample("edgetrain_latency_guard_threads_per_run")).toBeUndefined();
  expect(await sample("edgetrain_latency_guard_duty_ratio")).toBeUndefined();
  guard = { ...guard, threads_per_run: 1, duty: 0.5 };
  expect(await sample("edgetrain_latency_guard_threads_per_run")).toBe("1");
  expect(await sample("edgetrain_latency_guard_duty_ratio")).toBe("0.5");
  guard = { ...guard, threads_per_run: 0, duty: null };
  expect(await sample("edgetrain_latency_guard_threads_per_run")).toBe("0");
  expect(await sample("edgetrain_latency_guard_duty_ratio")).toBeUndefined();
});
