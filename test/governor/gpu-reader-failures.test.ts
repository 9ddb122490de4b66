import { describe, expect, test } from "bun:test";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { GpuReporter } from "../../runtime/governor/gpu-readers.ts";
import { FakeClock } from "../fake-clock.ts";
import { type LoggedLine, recordingLogger, repoRoot, tempDir, waitUntil } from "../helpers.ts";
import { feedWith, standInScript } from "./gpu-stand-in.ts";
import { testLimits } from "./limits.ts";

const limits = testLimits({ maxGpuBefore: 90, pauseAfter: 1 });
const recording = (name: string) => join(repoRoot, "test/fixtures/nvidia-smi", name);
const unknownNote = {
  ok: true as const,
  note: "GPU load unknown (its reader gave no reading); starting without the GPU limits",
};

const driverLost =
  "NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA " +
  "driver is installed and running.";

/**
 * A stand-in nvidia-smi that plays the busy recording each interval until the test takes its driver away,
 * then says so on stderr and exits 9 as nvidia-smi does, as does every start until the driver is back.
 */
function nvidiaSmiLosingItsDriver(dir: { path: string; write(relative: string, text: string): string }) {
  const lost = join(dir.path, "driver-lost");
  const starts = join(dir.path, "starts");
  const path = standInScript(
    dir,
    "nvidia-smi",
    `echo start >> '${starts}'\n` +
      `while [ ! -f '${lost}' ]; do cat '${recording("query-gpu-busy.csv")}'; sleep 0.05; done\n` +
      `cat '${recording("driver-lost.txt")}' >&2\nexit 9`,
  );
  return {
    path,
    command: join(dir.path, "bin/nvidia-smi"),
    starts: () => readFileSync(starts, "utf8").split("\n").length - 1,
    loseDriver: () => writeFileSync(lost, ""),
    bringDriverBack: () => rmSync(lost),
  };
}

describe("a GPU reader that fails is unknown, never its last reading", () => {
  test("nvidia-smi answering [N/A] after a busy reading: unknown, not the old 97 %", async () => {
    await using dir = tempDir();
    const lost = join(dir.path, "driver-lost");
    // Plays the busy recording each interval until the test cuts the driver off, then the [N/A] one.
    const path = standInScript(
      dir,
      "nvidia-smi",
      `while true; do if [ -f '${lost}' ]; then cat '${recording("query-gpu-unreadable.csv")}'; ` +
        `else cat '${recording("query-gpu-busy.csv")}'; fi; sleep 0.05; done`,
    );
    const fed = await feedWith(path, limits, dir);
    try {
      await fed.sampleAfterReading(1, (sample) => sample.gpuPercent !== undefined);
      expect(fed.governor.admit()).toEqual({
        ok: false,
        reason: "GPU 97 % ≥ max_gpu_before 90 %",
        cause: "max_gpu_before",
      });
      writeFileSync(lost, "");
      await fed.sampleAfterReading(1, (sample) => sample.gpuUnreadable === true);
      const sample = fed.samples.at(-1)!;
      expect(sample).toMatchObject({ gpuUnreadable: true });
      expect(sample.gpuPercent).toBeUndefined();
      expect(sample.gpuMemoryUsedMb).toBeUndefined();
      expect(fed.governor.admit()).toEqual(unknownNote);
    } finally {
      fed.dispose();
    }
  });

  test("nvidia-smi that stops after a busy reading: the GPU is unknown, no longer its last 97 %", async () => {
    await using dir = tempDir();
    const nvidia = nvidiaSmiLosingItsDriver(dir);
    const lines: LoggedLine[] = [];
    const fed = await feedWith(nvidia.path, limits, dir, { logger: recordingLogger(lines) });
    try {
      await fed.sampleAfterReading(1, (sample) => sample.gpuPercent !== undefined);
      expect(fed.governor.admit()).toEqual({
        ok: false,
        reason: "GPU 97 % ≥ max_gpu_before 90 %",
        cause: "max_gpu_before",
      });
      nvidia.loseDriver();
      await fed.sampleAfterReading(1, (sample) => sample.gpuUnreadable === true);
      expect(fed.samples.at(-1)!.gpuPercent).toBeUndefined();
      expect(fed.governor.admit()).toEqual(unknownNote);
      // Started again while the driver stays away, and said once.
      await fed.sampleAfterReading(1, () => nvidia.starts() >= 3);
      expect(nvidia.starts()).toBeGreaterThanOrEqual(3);
      expect(fed.governor.admit()).toEqual(unknownNote);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: "warn", fields: { reader: "nvidia-smi", exit_code: 9 } });
      nvidia.bringDriverBack();
      await fed.sampleAfterReading(1, (sample) => sample.gpuPercent !== undefined);
      expect(fed.governor.admit()).toEqual({
        ok: false,
        reason: "GPU 97 % ≥ max_gpu_before 90 %",
        cause: "max_gpu_before",
      });
    } finally {
      fed.dispose();
    }
  });

  test("a reporter that keeps stopping is started again 1 s, 2 s, 4 s … then every 60 s, and said once", async () => {
    await using dir = tempDir();
    const nvidia = nvidiaSmiLosingItsDriver(dir);
    const clock = new FakeClock(0);
    const lines: LoggedLine[] = [];
    const logger = recordingLogger(lines);
    const reporter = new GpuReporter({ kind: "nvidia-smi", command: nvidia.command, intervalMs: 1000, clock, logger });
    reporter.start();
    try {
      await waitUntil(() => reporter.reading().gpuPercent === 97);
      nvidia.loseDriver();
      await waitUntil(() => reporter.nextStartAt !== undefined);
      expect(reporter.reading()).toEqual({});
      const delays: number[] = [];
      for (let attempt = 0; attempt < 8; attempt++) {
        const delay = reporter.nextStartAt! - clock.now();
        delays.push(delay);
        clock.advance(delay);
        expect(reporter.nextStartAt).toBeUndefined(); // started again…
        await waitUntil(() => reporter.nextStartAt !== undefined); // …and stopped again
      }
      expect(delays).toEqual([1000, 2000, 4000, 8000, 16_000, 32_000, 60_000, 60_000]);
      expect(nvidia.starts()).toBe(9);
      expect(lines).toEqual([
        {
          level: "warn",
          message:
            `GPU reader nvidia-smi stopped (exit code 9: ${driverLost}): the GPU is unknown until it reads again; ` +
            "starting it again in 1 s, then up to every 60 s while it keeps stopping",
          fields: { reader: "nvidia-smi", command: nvidia.command, exit_code: 9 },
        },
      ]);
      nvidia.bringDriverBack();
      clock.advance(reporter.nextStartAt! - clock.now());
      await waitUntil(() => reporter.reading().gpuPercent === 97);
      expect(lines.slice(1)).toEqual([
        { level: "info", message: "GPU reader nvidia-smi reads the GPU again", fields: { reader: "nvidia-smi" } },
      ]);
    } finally {
      reporter.stop();
    }
  });

  test("a reader that cannot start (removed since) is said once and tried again later, not thrown", async () => {
    await using dir = tempDir();
    const clock = new FakeClock(0);
    const lines: LoggedLine[] = [];
    const command = join(dir.path, "bin/nvidia-smi");
    const reporter = new GpuReporter({
      kind: "nvidia-smi",
      command,
      intervalMs: 1000,
      clock,
      logger: recordingLogger(lines),
    });
    reporter.start();
    try {
      expect(reporter.reading()).toEqual({});
      expect(reporter.nextStartAt).toBe(1000);
      clock.advance(1000);
      expect(reporter.nextStartAt).toBe(3000);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ level: "warn", fields: { reader: "nvidia-smi", command } });
      expect(lines[0]!.message).toStartWith("GPU reader nvidia-smi stopped (could not start: ");
    } finally {
      reporter.stop();
    }
  });

  test("a reader that hangs after a busy reading: the reading is unknown once three intervals old", async () => {
    await using dir = tempDir();
    // Like nvidia-smi stuck in the driver: alive, printing nothing more.
    standInScript(dir, "nvidia-smi", `cat '${recording("query-gpu-busy.csv")}'\nexec sleep 600`);
    const clock = new FakeClock(0);
    const reporter = new GpuReporter({
      kind: "nvidia-smi",
      command: join(dir.path, "bin/nvidia-smi"),
      intervalMs: 1000,
      clock,
      logger: recordingLogger([]),
    });
    reporter.start();
    try {
      await waitUntil(() => reporter.reading().gpuPercent === 97);
      clock.advance(3000);
      expect(reporter.reading().gpuPercent).toBe(97);
      clock.advance(1);
      expect(reporter.reading()).toEqual({});
      expect(reporter.nextStartAt).toBeUndefined(); // still running: nothing to start again
    } finally {
      reporter.stop();
    }
  });

  test("the feed with a hung reader: runs are no longer deferred on its last 97 %", async () => {
    await using dir = tempDir();
    const path = standInScript(dir, "nvidia-smi", `cat '${recording("query-gpu-busy.csv")}'\nexec sleep 600`);
    const fed = await feedWith(path, limits, dir);
    try {
      await fed.sampleAfterReading(1, (sample) => sample.gpuPercent !== undefined);
      expect(fed.governor.admit()).toEqual({
        ok: false,
        reason: "GPU 97 % ≥ max_gpu_before 90 %",
        cause: "max_gpu_before",
      });
      await fed.sampleAfterReading(1, (sample) => sample.gpuUnreadable === true);
      expect(fed.samples.at(-1)!.gpuPercent).toBeUndefined();
      expect(fed.governor.admit()).toEqual(unknownNote);
    } finally {
      fed.dispose();
    }
  });

  test("one of two GPUs whose lines stop coming is unknown, not left out of the busiest", async () => {
    await using dir = tempDir();
    const gone = join(dir.path, "gpu-1-gone");
    // GPU 1 (idle) drops out of the lines once the test says so; GPU 0 stays busy but under the limit here.
    const path = standInScript(
      dir,
      "nvidia-smi",
      `while true; do echo '0, 20, 50, 1000, 80000'; [ -f '${gone}' ] || echo '1, 3, 38, 412, 81559'; ` +
        "sleep 0.05; done",
    );
    const fed = await feedWith(path, limits, dir);
    try {
      await fed.sampleAfterReading(1, (sample) => sample.gpuPercent !== undefined);
      expect(fed.samples.at(-1)!.gpuPercent).toBe(20);
      writeFileSync(gone, "");
      await fed.sampleAfterReading(1, (sample) => sample.gpuUnreadable === true);
      expect(fed.governor.admit()).toEqual(unknownNote);
    } finally {
      fed.dispose();
    }
  });
});
