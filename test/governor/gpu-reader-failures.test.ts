import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, tempDir } from "../helpers.ts";
import { feedWith, standInScript } from "./gpu-stand-in.ts";
import { testLimits } from "./limits.ts";

const limits = testLimits({ maxGpuBefore: 90, pauseAfter: 1 });
const recording = (name: string) => join(repoRoot, "test/fixtures/nvidia-smi", name);
const unknownNote = {
  ok: true as const,
  note: "GPU load unknown (its reader gave no reading); starting without the GPU limits",
};

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
      expect(fed.governor.admit()).toEqual({ ok: false, reason: "GPU 97 % ≥ max_gpu_before 90 %" });
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
});
