import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { checkMachine } from "../../runtime/hardware/check.ts";
import { jetpackOf, parseTegraRelease } from "../../runtime/hardware/jetson.ts";
import { probeInProcess } from "../../runtime/inference/probe.ts";
import { repoRoot, runCli, tempDir } from "../helpers.ts";

const line = (report: Awaited<ReturnType<typeof checkMachine>>, name: string) =>
  report.lines.find((l) => l.name === name)!;

describe("check", () => {
  test(
    "a recorded Jetson Nano with glibc 2.27: model, L4T/JetPack, sensors, WebAssembly fallback, " + "profile",
    async () => {
      await using dir = tempDir();
      const report = await checkMachine({
        root: join(repoRoot, "test/fixtures/jetson-nano"),
        home: dir.path,
        cacheDir: join(dir.path, "cache"),
        inferenceBackend: "auto",
        glibc: "2.27",
        which: () => null,
        probeOnnxRuntime: probeInProcess,
      });
      expect(line(report, "jetson").detail).toBe("NVIDIA Jetson Nano Developer Kit, L4T 32.7.1, JetPack 4.6.1");
      expect(line(report, "cpu").data).toMatchObject({ cores: 4, model: "ARMv8 Processor rev 1 (v8l)" });
      expect(line(report, "kernel").detail).toContain("4.9.253-tegra, no PSI");
      expect(line(report, "glibc")).toMatchObject({
        status: "warn",
        data: { version: "2.27", native_onnxruntime: false },
      });
      expect(line(report, "glibc").detail).toContain("needs 2.28");
      expect(line(report, "gpu load").data).toEqual({ sources: ["/sys/devices/gpu.0/load"] });
      expect(line(report, "temperature").detail).toBe("CPU-therm 41.5 °C, GPU-therm 39.0 °C");
      expect(line(report, "cuda").data).toMatchObject({ available: false });
      expect(line(report, "onnxruntime")).toMatchObject({ status: "warn", data: { backend: "wasm" } });
      expect(report.profile).toBe("jetson-nano");
      expect(report.ok).toBe(true);
    },
  );

  test("L4T releases map to JetPack", () => {
    expect(parseTegraRelease("# R35 (release), REVISION: 4.1, GCID: 33958178")).toBe("35.4.1");
    expect(jetpackOf("35.4.1")).toBe("5.1.2");
    expect(jetpackOf("32.9.9")).toBe("4.x (L4T 32.9.9)");
  });

  test("`edgetrain check --json` on this machine is one JSON document with a line per fact", async () => {
    await using dir = tempDir();
    const run = await runCli(["check", "--json"], { home: dir.path });
    const report = JSON.parse(run.stdout);
    expect(report.lines.map((l: { name: string }) => l.name)).toEqual([
      "cpu",
      "memory",
      "disk",
      "kernel",
      "glibc",
      "jetson",
      "cuda",
      "gpu load",
      "temperature",
      "onnxruntime",
      "profile",
    ]);
    expect(run.code).toBe(report.ok ? 0 : 1);
  });
});
