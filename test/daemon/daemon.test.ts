import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { migrations } from "../../runtime/state/migrations.ts";
import { runCli, startDaemonProcess, tempDir, waitUntil } from "../helpers.ts";

const TOKEN = "test-token-0123456789abcdef";

const startDaemon = (home: string, args: string[] = [], env: Record<string, string> = {}) =>
  startDaemonProcess(home, ["--home", home, "--headless", ...args], env);
const waitFor = waitUntil;

describe("daemon", () => {
  test("serves /health and /v1/status on loopback; mutating routes need the token", async () => {
    await using dir = tempDir();
    const { proc, url } = await startDaemon(dir.path);
    try {
      expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: "ok" });
      const status = await (await fetch(`${url}/v1/status`)).json();
      expect(status).toMatchObject({
        pid: proc.pid,
        home: dir.path,
        profile: { name: "base" },
        state: { schema_version: migrations.at(-1)!.version },
      });
      const post = await fetch(`${url}/v1/status`, { method: "POST" });
      expect(post.status).toBe(401);
      expect(((await post.json()) as { message: string }).message).toContain("needs the API token");
      // Without api.token, the daemon makes one for its home, readable only by its owner.
      const tokenFile = join(dir.path, "api.token");
      expect((await Bun.file(tokenFile).stat()).mode & 0o777).toBe(0o600);
      const homeToken = readFileSync(tokenFile, "utf8").trim();
      expect(homeToken.length).toBeGreaterThanOrEqual(32);
      expect(
        (await fetch(`${url}/v1/jobs/none/run`, { method: "POST", headers: { authorization: `Bearer ${homeToken}` } }))
          .status,
      ).toBe(404);
      const missing = await fetch(`${url}/v1/nothing`);
      expect(missing.status).toBe(404);
      expect(await missing.text()).not.toContain("at ");
      const address = JSON.parse(readFileSync(join(dir.path, "daemon.json"), "utf8"));
      expect(address.pid).toBe(proc.pid);

      const second = await runCli(["run", "--home", dir.path, "--port", "0"], { home: dir.path });
      expect(second.code).toBe(5);
      expect(second.stderr).toContain(`is locked by pid ${proc.pid}`);

      // Another home on the same port: refused, not started beside this one to answer half of its requests.
      await using other = tempDir();
      const port = new URL(url).port;
      const sharing = await runCli(["run", "--home", other.path, "--port", port, "--headless"], { home: other.path });
      expect(sharing.code).toBe(5);
      expect(sharing.stderr).toContain(`cannot listen on 127.0.0.1:${port}`);
      expect(((await (await fetch(`${url}/v1/status`)).json()) as { pid: number }).pid).toBe(proc.pid);
    } finally {
      proc.kill("SIGTERM");
    }
    const began = performance.now();
    expect(await proc.exited).toBe(0);
    expect(performance.now() - began).toBeLessThan(5000);
    expect(() => readFileSync(join(dir.path, "edgetrain.lock"))).toThrow();
    expect(() => readFileSync(join(dir.path, "api.token"))).toThrow();
  });

  test("refuses a non-loopback address without api.token, saying so", async () => {
    await using dir = tempDir();
    const run = await runCli(["run", "--home", dir.path, "--host", "0.0.0.0", "--port", "0"], { home: dir.path });
    expect(run.code).toBe(5);
    expect(run.stderr).toContain("refusing to listen on 0.0.0.0: a non-loopback address needs api.token");
  });

  test("with a token on a non-loopback address every /v1 route needs it; the token is never logged", async () => {
    await using dir = tempDir();
    const profile = dir.write("p.yaml", "api:\n  token: ${EDGETRAIN_TOKEN}\n");
    const { proc, url } = await startDaemon(dir.path, ["--profile", profile, "--host", "0.0.0.0"], {
      EDGETRAIN_TOKEN: TOKEN,
    });
    try {
      expect((await fetch(`${url}/health`)).status).toBe(200);
      expect((await fetch(`${url}/v1/status`)).status).toBe(401);
      expect((await fetch(`${url}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
      expect((await fetch(`${url}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } })).status).toBe(200);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
    const shown = await runCli(["profile", "show", "--profile", profile], {
      home: dir.path,
      env: { EDGETRAIN_TOKEN: TOKEN },
    });
    expect(shown.stdout).toContain("token: <from $EDGETRAIN_TOKEN>");
    const everything = readFileSync(join(dir.path, "logs/edgetrain.log"), "utf8") + shown.stdout + shown.stderr;
    expect(everything).not.toContain(TOKEN);
  });

  test("SIGHUP with a broken profile keeps the running one; a good one is applied", async () => {
    await using dir = tempDir();
    const profile = dir.write("p.yaml", "device:\n  name: before\n");
    const { proc, url } = await startDaemon(dir.path, ["--profile", profile]);
    const log = () => readFileSync(join(dir.path, "logs/edgetrain.log"), "utf8");
    try {
      dir.write("p.yaml", "device:\n  name: after\ngovernor:\n  pause_cpu: lots\n");
      proc.kill("SIGHUP");
      await waitFor(() => log().includes("kept the running profile"));
      expect(log()).toContain('governor.pause_cpu  expected number, got \\"lots\\"');
      expect(((await (await fetch(`${url}/v1/status`)).json()) as { device: { name: string } }).device.name).toBe(
        "before",
      );

      dir.write("p.yaml", "device:\n  name: after\n");
      proc.kill("SIGHUP");
      await waitFor(() => log().includes("profile reloaded"));
      expect(((await (await fetch(`${url}/v1/status`)).json()) as { device: { name: string } }).device.name).toBe(
        "after",
      );
    } finally {
      proc.kill("SIGINT");
    }
    expect(await proc.exited).toBe(0);
  });

  test("a memory_reserve_mb past this machine's memory is warned of at start, naming its memory", async () => {
    await using dir = tempDir();
    const profile = dir.write("p.yaml", "governor:\n  memory_reserve_mb: 99999999\n");
    const { proc } = await startDaemon(dir.path, ["--profile", profile]);
    const log = () => readFileSync(join(dir.path, "logs/edgetrain.log"), "utf8");
    const machineMb = Math.round(Number(/^MemTotal:\s+(\d+)/m.exec(readFileSync("/proc/meminfo", "utf8"))![1]) / 1024);
    const warning = `governor.memory_reserve_mb 99999999 MB is not below this machine's memory, ${machineMb} MB`;
    try {
      await waitFor(() => log().includes("running"));
      expect(log()).toContain(warning);
      // A profile moves between devices: a reserve that fits this one is said nothing of.
      dir.write("p.yaml", "governor:\n  memory_reserve_mb: 512\n");
      proc.kill("SIGHUP");
      await waitFor(() => log().includes("profile reloaded"));
      expect(log().split(warning).length - 1).toBe(1);
    } finally {
      proc.kill("SIGINT");
    }
    expect(await proc.exited).toBe(0);
  });

  test("SIGHUP applies a new api.token at once, drops one taken out, and names what needs a restart", async () => {
    await using dir = tempDir();
    const first = "first-token-0123456789abcdef";
    const second = "second-token-0123456789abcdef";
    const profile = dir.write("p.yaml", `api:\n  token: ${first}\n`);
    const { proc, url } = await startDaemon(dir.path, ["--profile", profile]);
    const log = () => readFileSync(join(dir.path, "logs/edgetrain.log"), "utf8");
    const clearWith = async (token: string) =>
      (await fetch(`${url}/v1/cache`, { method: "DELETE", headers: { authorization: `Bearer ${token}` } })).status;
    const reloads = () =>
      log()
        .split("\n")
        .filter((line) => line.includes('"profile reloaded"')).length;
    try {
      expect(await clearWith(first)).toBe(200);
      dir.write("p.yaml", `api:\n  token: ${second}\ninference:\n  max_loaded: 3\n`);
      proc.kill("SIGHUP");
      await waitFor(() => reloads() === 1);
      expect([await clearWith(first), await clearWith(second)]).toEqual([401, 200]);
      expect(readFileSync(join(dir.path, "api.token"), "utf8").trim()).toBe(second);
      expect(log()).toContain("profile reloaded, but inference change only when the daemon restarts");

      dir.write("p.yaml", "inference:\n  max_loaded: 3\n");
      proc.kill("SIGHUP");
      await waitFor(() => reloads() === 2);
      const made = readFileSync(join(dir.path, "api.token"), "utf8").trim();
      expect(made).not.toBe(second);
      expect([await clearWith(second), await clearWith(made)]).toEqual([401, 200]);
    } finally {
      proc.kill("SIGINT");
    }
    expect(await proc.exited).toBe(0);
  });

  test("SIGHUP onto a trigger whose setup() throws keeps the running profile and the daemon", async () => {
    await using dir = tempDir();
    dir.write(
      "plugins/t.js",
      'export default { kind: "trigger", name: "boomtrig", version: "1.0.0", options: ({ v }) => v.strictObject({}), ' +
        'setup() { throw new Error("setup boom"); } };\n',
    );
    const job = "jobs:\n  j:\n    strategy: random-forest\n    data: { source: rows, path: j.csv }\n";
    const profile = dir.write("p.yaml", `device:\n  name: before\n${job}    triggers: [{ type: manual }]\n`);
    const { proc, url } = await startDaemon(dir.path, ["--profile", profile]);
    const log = () => readFileSync(join(dir.path, "logs/edgetrain.log"), "utf8");
    try {
      dir.write("p.yaml", `device:\n  name: after\n${job}    triggers: [{ type: boomtrig }]\n`);
      proc.kill("SIGHUP");
      await waitFor(() => log().includes("kept the running profile"));
      expect(log()).toContain("setup boom");
      const status = (await (await fetch(`${url}/v1/status`)).json()) as { device: { name: string } };
      expect(status.device.name).toBe("before");
    } finally {
      proc.kill("SIGINT");
    }
    expect(await proc.exited).toBe(0);
  });

  test("a reload whose fallback fails too keeps the daemon serving and says its triggers wait", async () => {
    await using dir = tempDir();
    const marker = join(dir.path, "fail-now");
    const plugin = (name: string, failing: string) =>
      `import { existsSync } from "node:fs";\nexport default { kind: "trigger", name: "${name}", version: "1.0.0", ` +
      `options: ({ v }) => v.strictObject({}), setup() { if (${failing}) throw new Error("${name} failed"); ` +
      `return { watch() { return () => {}; } }; } };\n`;
    dir.write("plugins/flaky.js", plugin("flaky", `existsSync(${JSON.stringify(marker)})`));
    dir.write("plugins/boom.js", plugin("boom", "true"));
    const job = "jobs:\n  j:\n    strategy: random-forest\n    data: { source: rows, path: j.csv }\n";
    const profile = dir.write("p.yaml", `${job}    triggers: [{ type: flaky }]\n`);
    const { proc, url } = await startDaemon(dir.path, ["--profile", profile]);
    const log = () => readFileSync(join(dir.path, "logs/edgetrain.log"), "utf8");
    try {
      dir.write("fail-now", "");
      dir.write("p.yaml", `${job}    triggers: [{ type: boom }]\n`);
      proc.kill("SIGHUP");
      await waitFor(() => log().includes("could not be set up again"));
      expect(log()).toContain("its triggers wait for a reload or a restart");
      expect((await fetch(`${url}/health`)).status).toBe(200);
    } finally {
      proc.kill("SIGINT");
    }
    expect(await proc.exited).toBe(0);
  });

  test("a broken profile refuses to start with exit code 3 and every problem", async () => {
    await using dir = tempDir();
    const profile = dir.write("p.yaml", "governor:\n  pause_cpu: lots\napi:\n  prot: 1\n");
    const run = await runCli(["run", "--profile", profile, "--home", dir.path], { home: dir.path });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`${profile}:2:14  governor.pause_cpu`);
    expect(run.stderr).toContain(`${profile}:4:3  api.prot  unknown key "prot"  (did you mean "port"?)`);
  });
});
