import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildTarget, runtimeFilesOf, writeChecksums } from "../../scripts/build.ts";
import { TARGETS } from "../../scripts/build-targets.ts";
import { processState, repoRoot, tempDir, waitUntil } from "../helpers.ts";

const outDir = mkdtempSync(join(tmpdir(), "edgetrain-dist-"));
let x64 = "";

async function runBinary(command: string[], cwd: string, home: string) {
  // Stray .env and bunfig.toml in the working folder must be ignored by the binary.
  const proc = Bun.spawn(command, { cwd, env: { PATH: "/usr/bin:/bin", HOME: home }, stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { stdout, stderr, code };
}

afterAll(() => rmSync(outDir, { recursive: true, force: true }));

beforeAll(async () => {
  x64 = await buildTarget("linux-x64", outDir);
}, 120_000);

describe("compiled binary", () => {
  test("runs from any folder with nothing else installed: --version and check --json with ONNX Runtime", async () => {
    await using dir = tempDir();
    const binary = join(dir.path, "edgetrain");
    copyFileSync(x64, binary);
    dir.write(".env", "EDGETRAIN_HOME=/nonexistent\n");
    dir.write("bunfig.toml", "this is not toml [");
    const version = await runBinary([binary, "--version"], dir.path, dir.path);
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^edgetrain \d+\.\d+\.\d+ \(linux-x64, bun-linux-x64, \w+\)/);

    const check = await runBinary([binary, "check", "--json"], dir.path, dir.path);
    expect(check.code).toBe(0);
    const report = JSON.parse(check.stdout);
    const ort = report.lines.find((line: { name: string }) => line.name === "onnxruntime");
    expect(ort).toMatchObject({ status: "ok", data: { backend: "native", version: "1.30.0" } });
    expect(ort.data.providers).toContain("cpu");
    // The library was extracted side by side under the home, not into /tmp.
    const extracted = join(dir.path, ".edgetrain/cache/runtime/onnxruntime-1.30.0-linux-x64");
    expect(readdirSync(extracted).sort()).toEqual(["libonnxruntime.so.1", "onnxruntime_binding.node"]);
  }, 120_000);

  test("runs the demo: 30 models trained, served, and one retrained while predictions are answered", async () => {
    await using dir = tempDir();
    const demo = await runBinary(
      [x64, "demo", "--home", join(dir.path, "demo"), "--port", "0", "--once"],
      dir.path,
      dir.path,
    );
    expect([demo.code, demo.stderr.slice(-1500)]).toEqual([0, expect.any(String)]);
    expect(JSON.parse(demo.stdout.trim().split("\n").at(-1)!)).toMatchObject({
      ok: true,
      models: 30,
      unchanged: 29,
      failed: 0,
    });
  }, 180_000);

  test("the TUI in a real terminal (tmux): the demo opens it, screens switch, a conflict is answered, q leaves the " +
    "daemon", async () => {
    await using dir = tempDir();
    const home = join(dir.path, "demo");
    const session = `edgetrain-e2e-${process.pid}`;
    const tmux = (...args: string[]) => Bun.spawnSync(["tmux", ...args], { stdout: "pipe", stderr: "pipe" });
    const screen = () => tmux("capture-pane", "-p", "-t", session).stdout.toString();
    const waitFor = async (check: (text: string) => boolean, what: string, ms = 60_000) => {
      const deadline = Date.now() + ms;
      while (!check(screen())) {
        if (Date.now() > deadline) throw new Error(`the terminal never showed ${what}:\n${screen()}`);
        await Bun.sleep(200);
      }
    };
    tmux(
      "new-session",
      "-d",
      "-s",
      session,
      "-x",
      "100",
      "-y",
      "30",
      `cd ${dir.path} && HOME=${dir.path} ${x64} demo --home ${home} --port 0; sleep 60`,
    );
    try {
      await waitFor((text) => text.includes("● live") && text.includes("30 active of 30"), "30 active models");
      tmux("send-keys", "-t", session, "2");
      await waitFor((text) => /succeeded\s+activity\/player_7/.test(text), "the runs screen");
      tmux("send-keys", "-t", session, "3");
      await waitFor((text) => text.includes("MODEL") && text.includes("activity-player_1"), "the models screen");
      tmux("send-keys", "-t", session, "1");

      // Once the story is over (player_7 retrained), a live dashboard holds its predictor lock; a run asks in the TUI.
      const { url } = JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")) as { url: string };
      const player7 = async () =>
        ((await (await fetch(`${url}/v1/models/activity-player_7`)).json()) as { active?: number }).active;
      for (const deadline = Date.now() + 60_000; (await player7()) !== 2 && Date.now() < deadline; )
        await Bun.sleep(200);
      const hold = Bun.spawn([x64, "hold", "player-dashboard", "--home", home, "--", "sleep", "60"], {
        env: { PATH: "/usr/bin:/bin", HOME: dir.path },
        stdout: "ignore",
        stderr: "ignore",
      });
      try {
        await waitUntil(() => existsSync(join(home, "locks/predictor-player-dashboard.lock")), 10_000);
        const token = readFileSync(join(home, "api.token"), "utf8").trim();
        await fetch(`${url}/v1/jobs/activity/run`, {
          method: "POST",
          headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
          body: JSON.stringify({ key: "player_3" }),
        });
        await waitFor(
          (text) => text.includes("Conflict: job activity for player_3") && text.includes("player-dashboard: hold"),
          "the conflict prompt",
        );
        tmux("send-keys", "-t", session, "s");
        await waitFor((text) => !text.includes("Conflict:"), "the prompt closing");
        expect(((await (await fetch(`${url}/v1/conflicts`)).json()) as { conflicts: unknown[] }).conflicts).toEqual([]);
        tmux("send-keys", "-t", session, "q");
        await waitFor((text) => text.includes("TUI closed; the daemon keeps serving"), "the TUI closing");
        expect((await fetch(`${url}/health`)).status).toBe(200);
      } finally {
        hold.kill();
      }
    } finally {
      tmux("kill-session", "-t", session);
    }
    // Closing the terminal (SIGHUP) stops a daemon started on it: none is left holding the port and the home.
    const { pid } = JSON.parse(readFileSync(join(home, "daemon.json"), "utf8")) as { pid: number };
    // A zombie waiting for its parent to reap it has stopped too.
    const alive = () => !["Z", "gone"].includes(processState(pid));
    try {
      await waitUntil(() => !alive(), 10_000);
    } finally {
      if (alive()) process.kill(pid, "SIGKILL");
    }
  }, 180_000);

  test("trains with worker threads and predicts through ONNX Runtime, from a folder far from the project", async () => {
    await using dir = tempDir();
    const model = join(dir.path, "wine.onnx");
    const fit = await runBinary(
      [
        x64,
        "fit",
        "--strategy",
        "random-forest",
        "--data",
        join(repoRoot, "test/fixtures/real/wine-train.csv"),
        "--test",
        join(repoRoot, "test/fixtures/real/wine-test.csv"),
        "--set",
        "n_jobs=2",
        "--out",
        model,
        "--json",
      ],
      dir.path,
      dir.path,
    );
    expect(fit.stderr).toBe("");
    const report = JSON.parse(fit.stdout) as { accuracy: number; rows: number };
    expect(report.rows).toBe(133);
    expect(report.accuracy).toBeGreaterThan(0.85);
    const predict = await runBinary(
      [x64, "predict", "--model", model, "--data", join(repoRoot, "test/fixtures/real/wine-test.csv"), "--json"],
      dir.path,
      dir.path,
    );
    expect((JSON.parse(predict.stdout) as { accuracy: number }).accuracy).toBeCloseTo(report.accuracy, 6);
  }, 120_000);

  test("runs the daemon: a cron job trains with worker threads and is visible over the API; SIGTERM stops " +
    "it", async () => {
    await using dir = tempDir();
    const home = join(dir.path, "home");
    for (let n = 1; n <= 2; n++)
      dir.write(
        `home/data/athletes/p1/TR${n}_x.csv`,
        `hr,label\n${Array.from({ length: 60 }, (_, i) => `${i},${i % 2 ? "a" : "b"}`).join("\n")}\n`,
      );
    dir.write(
      "home/profile.yaml",
      `paths:\n  home: ${home}\ngovernor:\n  max_cpu_before: 100\n  max_memory_before: 100\n  pause_cpu: 100\n  ` +
        `pause_memory: 100\njobs:\n  activity:\n    strategy: random-forest\n    options: { n_estimators: 4, n_jobs: ` +
        `2 }\n    data: { source: sessions, path: athletes, debounce: 0 }\n    triggers: [{ type: cron, schedule: "* ` +
        `* * * * *" }]\n`,
    );
    const daemon = Bun.spawn([x64, "run", "--home", home, "--port", "0", "--headless"], {
      cwd: dir.path,
      env: { PATH: "/usr/bin:/bin", HOME: dir.path },
      stdout: "pipe",
      stderr: "pipe",
    });
    try {
      const { port } = JSON.parse(
        new TextDecoder().decode((await daemon.stdout.getReader().read()).value).split("\n")[0]!,
      ) as { port: number };
      const deadline = Date.now() + 20_000;
      let runs: Array<{ status: string }> = [];
      while (!runs.some((run) => run.status === "succeeded") && Date.now() < deadline) {
        runs = ((await (await fetch(`http://127.0.0.1:${port}/v1/runs`)).json()) as { runs: typeof runs }).runs;
        await Bun.sleep(100);
      }
      expect(runs.some((run) => run.status === "succeeded")).toBe(true);
    } finally {
      daemon.kill("SIGTERM");
    }
    expect(await daemon.exited).toBe(0);
  }, 60_000);

  test("falls back to ONNX Runtime's WebAssembly build when asked (as on glibc 2.27)", async () => {
    await using dir = tempDir();
    const profile = dir.write("wasm.yaml", "inference:\n  backend: wasm\n");
    const check = await runBinary([x64, "check", "--json", "--profile", profile], dir.path, dir.path);
    const ort = JSON.parse(check.stdout).lines.find((line: { name: string }) => line.name === "onnxruntime");
    expect(ort).toMatchObject({ status: "warn", data: { backend: "wasm", providers: ["wasm"] } });
    expect(
      existsSync(join(dir.path, ".edgetrain/cache/runtime/onnxruntime-web-1.30.0/ort-wasm-simd-threaded.wasm")),
    ).toBe(true);
  }, 120_000);

  test("Ink renders inside a compiled binary (react-devtools-core stubbed at build time)", async () => {
    await using dir = tempDir();
    const binary = await buildTarget("linux-x64", outDir, join(repoRoot, "test/fixtures/ink-hello.tsx"), "ink-hello");
    const run = await runBinary([binary], dir.path, dir.path);
    expect(run.stderr).toBe("");
    expect(run.stdout).toContain("hello from ink");
    expect(run.code).toBe(0);
  }, 120_000);

  const qemu = Bun.which("qemu-aarch64-static");
  const sysroot = "/usr/aarch64-linux-gnu";
  const canEmulate = Boolean(qemu) && existsSync(join(sysroot, "lib/ld-linux-aarch64.so.1"));
  if (!canEmulate)
    console.warn(
      "skipping the arm64 test: qemu-user-static and libc6-arm64-cross are not installed (.ci/run installs them)",
    );

  test.skipIf(!canEmulate)(
    "the Jetson Nano binary carries only WebAssembly ONNX Runtime, within 115 MB, and runs under qemu-aarch64 on a " +
      "Cortex-A57",
    async () => {
      await using dir = tempDir();
      const nano = await buildTarget("jetson-nano", outDir);
      expect(Bun.file(nano).size).toBeLessThanOrEqual(115 * 1048576);
      const emulate = [qemu!, "-cpu", "cortex-a57", "-L", sysroot, nano];
      const version = await runBinary([...emulate, "--version"], dir.path, dir.path);
      expect(version.stdout).toContain("(jetson-nano, bun-linux-arm64, ");
      const check = await runBinary([...emulate, "check", "--json"], dir.path, dir.path);
      expect(check.code).toBe(0);
      const report = JSON.parse(check.stdout);
      expect(report.lines.find((line: { name: string }) => line.name === "cpu").data.arch).toBe("arm64");
      const ort = report.lines.find((line: { name: string }) => line.name === "onnxruntime");
      expect(ort.data.backend).toBe("wasm");
      expect(JSON.stringify(ort)).toContain("carries only the WebAssembly build");
      // Without a profile of its own, the binary uses its target's.
      const profile = await runBinary([...emulate, "profile", "show", "--json"], dir.path, dir.path);
      expect(profile.stdout).toContain("jetson-nano");
    },
    300_000,
  );
});

test("the t3.micro binary carries only native ONNX Runtime, within 130 MB, defaults to its profile, and refuses " +
  "wasm", async () => {
  await using dir = tempDir();
  const micro = await buildTarget("t3-micro", outDir);
  expect(Bun.file(micro).size).toBeLessThanOrEqual(130 * 1048576);
  expect(Bun.file(micro).size).toBeLessThan(Bun.file(x64).size);
  const version = await runBinary([micro, "--version"], dir.path, dir.path);
  expect(version.stdout).toContain("(t3-micro, bun-linux-x64, ");
  const check = await runBinary([micro, "check", "--json"], dir.path, dir.path);
  const ort = JSON.parse(check.stdout).lines.find((line: { name: string }) => line.name === "onnxruntime");
  expect(ort.data.backend).toBe("native");
  const profile = await runBinary([micro, "profile", "show", "--json"], dir.path, dir.path);
  expect(profile.stdout).toContain("t3-micro");
  const wasm = dir.write("wasm.yaml", "inference:\n  backend: wasm\n");
  const refused = await runBinary([micro, "check", "--json", "--profile", wasm], dir.path, dir.path);
  expect(refused.stdout + refused.stderr).toContain("carries only ONNX Runtime's native build");
}, 300_000);

test("the build writes SHA256SUMS in sha256sum's format", async () => {
  await using dir = tempDir();
  const file = dir.write("edgetrain-demo-target", "not a real binary");
  const sums = writeChecksums([file], dir.path);
  const check = Bun.spawnSync(["sha256sum", "--check", sums], { cwd: dir.path });
  expect(check.stdout.toString()).toContain("edgetrain-demo-target: OK");
  expect(check.exitCode).toBe(0);
});

test("each target embeds only the ONNX Runtime builds it can load, the large files packed", () => {
  const files = (name: keyof typeof TARGETS) =>
    runtimeFilesOf(TARGETS[name])
      .map((file) => file.path)
      .join(" ");
  expect(files("jetson-nano")).not.toContain("libonnxruntime.so.1");
  expect(files("jetson-nano")).toContain("ort-wasm-simd-threaded.wasm");
  for (const native of ["t3-micro", "jetson-orin", "gpu-server"] as const) {
    expect(files(native)).toContain("libonnxruntime.so.1");
    expect(files(native)).not.toContain(".wasm");
  }
  expect(files("jetson-orin")).toContain("linux/arm64");
  expect(files("linux-x64")).toContain("libonnxruntime.so.1");
  expect(files("linux-x64")).toContain(".wasm");
  const packed = runtimeFilesOf(TARGETS["linux-x64"])
    .filter((file) => file.pack)
    .map((file) => file.name);
  expect(packed).toEqual(["library", "wasm"]);
});
