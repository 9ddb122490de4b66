import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { bun, cli, repoRoot, runCli, tempDir, waitUntil } from "../helpers.ts";
import { standInScript } from "./gpu-stand-in.ts";

const recording = (name: string) => join(repoRoot, "test/fixtures/nvidia-smi", name);

test("status: runs held back while the GPU defers them, admitted, GPU unknown, once nvidia-smi stops", async () => {
  await using dir = tempDir();
  const home = join(dir.path, "home");
  const lost = join(dir.path, "driver-lost");
  // The governor's nvidia-smi -lms plays the busy recording until the driver goes; other queries get nothing.
  standInScript(
    dir,
    "nvidia-smi",
    `case "$*" in *-lms*) ;; *) exit 9 ;; esac\n` +
      `while [ ! -f '${lost}' ]; do cat '${recording("query-gpu-busy.csv")}'; sleep 0.05; done\n` +
      `cat '${recording("driver-lost.txt")}' >&2\nexit 9`,
  );
  dir.write(
    "home/profile.yaml",
    `paths:\n  home: ${home}\ngovernor:\n  sample_interval: 200ms\n  max_cpu_before: 100\n  max_memory_before: 100\n` +
      "  pause_cpu: 100\n  pause_memory: 100\n  max_gpu_before: 90\n  gpu_memory_fraction: 1\njobs:\n  fit:\n" +
      "    strategy: command\n    options:\n      command: 'true'\n    triggers: [{ type: manual }]\n",
  );
  const daemon = Bun.spawn([bun, cli, "run", "--home", home, "--port", "0", "--headless"], {
    env: { PATH: `${join(dir.path, "bin")}:${process.env.PATH}`, HOME: dir.path },
    stdout: "ignore",
    stderr: "ignore",
  });
  const cliIn = (...args: string[]) => runCli([...args, "--home", home], { home: dir.path });
  let status = "";
  const statusShows = async (text: string) => (status = (await cliIn("status")).stdout).includes(text);
  try {
    await waitUntil(() => Bun.file(join(home, "daemon.json")).exists(), 15_000);
    expect((await cliIn("train", "fit")).stdout).toContain("queued fit in the daemon");
    await waitUntil(() => statusShows("gpu 97 %"), 15_000);
    expect(status).toContain("governor: holding new runs back — GPU 97 % ≥ max_gpu_before 90 %");
    expect(status).not.toContain("admitting runs");
    expect(status).toContain("queue: fit (");

    writeFileSync(lost, "");
    await waitUntil(() => statusShows("gpu unknown"), 15_000);
    expect(status).toContain(
      "governor: admitting runs — GPU load unknown (its reader gave no reading); starting without the GPU limits",
    );
    // The run the GPU held back starts.
    await waitUntil(async () => JSON.parse((await cliIn("runs", "--json")).stdout).length > 0, 15_000);
  } finally {
    daemon.kill();
    await daemon.exited;
  }
}, 60_000);
