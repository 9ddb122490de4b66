import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { loadProfile } from "../../runtime/config/load-profile.ts";
import { resolvePaths } from "../../runtime/config/paths.ts";
import type { Profile } from "../../runtime/config/schema.ts";
import type { EdgetrainError } from "../../runtime/errors.ts";
import {
  HEAP_ENVIRONMENT,
  SERVICE_HOME,
  SERVICE_LOGS,
  type UnitRequest,
  unitText,
} from "../../runtime/systemd/unit-file.ts";
import { bun, cli, runCli, tempDir, testEnvironment } from "../helpers.ts";

const analyze = Bun.which("systemd-analyze");
/** `systemd-analyze security --offline=true FILE` came with systemd 250. */
const versionText = analyze ? Bun.spawnSync([analyze, "--version"]).stdout.toString() : "";
const systemdVersion = Number(/systemd (\d+)/.exec(versionText)?.[1] ?? 0);
const noVerify = analyze ? undefined : "no systemd-analyze on this machine";
const noSecurity = noVerify ?? (systemdVersion < 250 ? `systemd ${systemdVersion} has no offline analysis` : undefined);

function profileOf(name: string): Profile {
  const loaded = loadProfile({ profile: name, environment: testEnvironment("/nonexistent") });
  if (!loaded.profile) throw new Error(`profile ${name} does not load`);
  return loaded.profile;
}

/** The unit for `profile`: the system service's own home, or `home` given. */
function unitFor(name: string, options: { home?: string; userUnit?: boolean } = {}): string {
  return unitText(requestFor(name, options));
}

function requestFor(name: string, options: { home?: string; userUnit?: boolean } = {}): UnitRequest {
  const profile = profileOf(name);
  const serviceHome = options.home === undefined && !options.userUnit;
  const home = options.home ?? (serviceHome ? SERVICE_HOME : "/home/athlete/.edgetrain");
  const layout = { ...profile.paths, home, ...(serviceHome ? { logs: SERVICE_LOGS } : {}) };
  const paths = resolvePaths({ ...profile, paths: layout }, "/home/athlete");
  const request: UnitRequest = {
    profile,
    profileRef: name,
    profileFiles: [],
    paths,
    serviceHome,
    command: [bun, cli],
    user: options.userUnit ? undefined : "athlete",
    userUnit: options.userUnit ?? false,
    environmentFile: "/etc/edgetrain/env",
    writes: [],
  };
  return request;
}

/** Every value of `key=` in the unit, in order. */
function values(unit: string, key: string): string[] {
  return [...unit.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((match) => match[1]!);
}

test("a system service given no home runs in StateDirectory= and LogsDirectory=, notifying, watched", () => {
  const unit = unitFor("base");
  expect(values(unit, "Type")).toEqual(["notify"]);
  expect(Number(values(unit, "WatchdogSec")[0])).toBeGreaterThan(0);
  expect(values(unit, "WatchdogSignal")).toEqual(["SIGKILL"]);
  expect(values(unit, "StateDirectory")).toEqual(["edgetrain"]);
  expect(values(unit, "LogsDirectory")).toEqual(["edgetrain"]);
  expect(values(unit, "Environment")).toEqual([
    `EDGETRAIN_HOME=${SERVICE_HOME}`,
    `EDGETRAIN_LOGS=${SERVICE_LOGS}`,
    HEAP_ENVIRONMENT,
  ]);
  expect(values(unit, "ReadWritePaths")).toEqual([]);
  expect(values(unit, "ProtectSystem")).toEqual(["strict"]);
  expect(values(unit, "ProtectHome")).toEqual(["yes"]);
  const expected = ["PrivateTmp=yes", "NoNewPrivileges=yes", "LockPersonality=yes", "RestrictRealtime=yes"];
  for (const line of [...expected, "SystemCallArchitectures=native"]) expect(unit).toContain(`\n${line}\n`);
  expect(values(unit, "RestrictAddressFamilies")[0]).toStartWith("AF_UNIX AF_INET AF_INET6");
});

test("the unit's heap setting has the runtime collect as it allocates: the heap stays level under garbage", () => {
  // About 30 MB kept, as the daemon keeps with 30 models loaded, and 80 MB of short-lived answers.
  const script = `
    const { heapStats } = require("bun:jsc");
    const kept = Array.from({ length: 300000 }, (_, i) => ({ i, row: [i, i + 1, i + 2] }));
    let peak = 0;
    for (let round = 0; round < 800; round++) {
      const answers = Array.from({ length: 1000 }, (_, i) => ({ round, i, row: [i / 2, round / 4, 1.5] }));
      if (answers.length && round % 5 === 0) peak = Math.max(peak, heapStats().heapCapacity);
    }
    console.log(JSON.stringify({ peak, kept: kept.length }));`;
  const [name, value] = HEAP_ENVIRONMENT.split("=") as [string, string];
  const peakMb = (setting: string | undefined) => {
    const { [name]: _inherited, ...env } = process.env;
    const child = Bun.spawnSync([bun, "-e", script], { env: setting ? { ...env, [name]: setting } : env, cwd: "/" });
    return (JSON.parse(child.stdout.toString()) as { peak: number }).peak / 1_048_576;
  };
  const unset = peakMb(undefined);
  const level = peakMb(value);
  // Left to itself the heap grows to about twice what it keeps before collecting.
  expect(unset - level).toBeGreaterThan(Number(value) / 1_048_576 / 2);
}, 60_000);

test("a custom home is the one writable path, and stays in sight: user homes read-only, /tmp shared", () => {
  const inHome = unitFor("base", { home: "/home/athlete/.edgetrain" });
  expect(values(inHome, "ReadWritePaths")).toEqual(["-/home/athlete/.edgetrain"]);
  expect(values(inHome, "ProtectHome")).toEqual(["read-only"]);
  expect(values(inHome, "PrivateTmp")).toEqual(["yes"]);
  expect(values(inHome, "StateDirectory")).toEqual([]);
  const inTemp = unitFor("base", { home: "/tmp/edgetrain" });
  expect(values(inTemp, "PrivateTmp")).toEqual(["no"]);
  expect(values(inTemp, "ProtectHome")).toEqual(["yes"]);
  const elsewhere = unitFor("base", { home: "/srv/edge train" });
  expect(values(elsewhere, "ReadWritePaths")).toEqual(['"-/srv/edge train"']);
  expect(elsewhere).toContain('--home "/srv/edge train"');
});

test("a value with a line break is refused: it would write settings of its own into the unit", () => {
  const request = requestFor("base", { home: "/srv/edgetrain" });
  const injected = "/srv/p\n[Service]\nExecStartPre=/bin/sh -c id";
  const refusals = [
    { ...request, profileRef: `${injected}.yaml` },
    { ...request, paths: { ...request.paths, home: injected } },
    { ...request, paths: { ...request.paths, models: injected } },
    { ...request, command: [injected] },
    { ...request, environmentFile: injected },
  ].map((bad) => {
    try {
      return unitText(bad);
    } catch (error) {
      return { code: (error as EdgetrainError).code, message: (error as Error).message };
    }
  });
  expect(refusals).toEqual([
    { code: "usage", message: expect.stringContaining("--profile") },
    { code: "usage", message: expect.stringContaining("the home") },
    { code: "profile_invalid", message: expect.stringContaining("paths.models") },
    { code: "usage", message: expect.stringContaining("--exec") },
    { code: "usage", message: expect.stringContaining("EnvironmentFile") },
  ]);
});

test("$ and % in a path reach the daemon as written, not as systemd's variables and specifiers", async () => {
  const home = "/srv/h$USER%n";
  const unit = unitText({ ...requestFor("base", { home }), profileRef: "/etc/edgetrain/100%.yaml" });
  expect(unit).toContain(" --profile /etc/edgetrain/100%%.yaml --home /srv/h$$USER%%n\n");
  expect(unit).toContain("(profile /etc/edgetrain/100%%.yaml)\n");
  expect(values(unit, "Environment")[0]).toBe("EDGETRAIN_HOME=/srv/h$USER%%n");
  expect(values(unit, "ReadWritePaths")).toEqual(["-/srv/h$USER%%n"]);
  if (!analyze) return;
  await using dir = tempDir();
  const verify = Bun.spawnSync([analyze, "verify", dir.write("edgetrain.service", unit)]);
  const problems = verify.stderr
    .toString()
    .split("\n")
    .filter((line) => line && !/user athlete/i.test(line));
  expect({ code: verify.exitCode, problems }).toEqual({ code: 0, problems: [] });
});

test("MemoryHigh sits below MemoryMax, both from the governor's memory limit", () => {
  for (const name of ["base", "jetson-nano", "jetson-orin", "gpu-server", "t3-micro"]) {
    const unit = unitFor(name);
    const high = Number(values(unit, "MemoryHigh")[0]!.replace("M", ""));
    const max = Number(values(unit, "MemoryMax")[0]!.replace("M", ""));
    expect(high).toBeGreaterThan(profileOf(name).governor.memory_limit_mb);
    expect(high).toBeLessThan(max);
  }
});

test("the devices follow the hardware: NVIDIA's on a GPU server, a Jetson's /dev kept, none elsewhere", () => {
  const gpu = unitFor("gpu-server");
  expect(values(gpu, "PrivateDevices")).toEqual(["no"]);
  expect(values(gpu, "DevicePolicy")).toEqual(["closed"]);
  expect(values(gpu, "DeviceAllow")).toEqual(["char-nvidia* rw"]);
  for (const jetson of ["jetson-nano", "jetson-orin"]) {
    const unit = unitFor(jetson);
    expect(values(unit, "PrivateDevices")).toEqual(["no"]);
    // ProtectClock= would turn the device list into an allow-list without the GPU's nodes.
    expect(values(unit, "ProtectClock")).toEqual([]);
    expect(values(unit, "DevicePolicy")).toEqual([]);
  }
  for (const cpu of ["base", "t3-micro"]) expect(values(unitFor(cpu), "PrivateDevices")).toEqual(["yes"]);
});

test("the system call filter keeps what lowers a run's priority", () => {
  const unit = unitFor("base");
  expect(values(unit, "SystemCallFilter")).toContain("@system-service");
  expect(values(unit, "SystemCallErrorNumber")).toEqual(["EPERM"]);
  if (!analyze) return;
  // setpriority and sched_setscheduler (SCHED_IDLE) must be in the allowed set and not in a refused one.
  const members = (group: string): string => Bun.spawnSync([analyze, "syscall-filter", group]).stdout.toString();
  const filters = values(unit, "SystemCallFilter");
  const refused = filters.filter((value) => value.startsWith("~")).flatMap((value) => value.slice(1).split(" "));
  for (const group of refused) {
    for (const call of ["setpriority", "sched_setscheduler"]) {
      expect(members(group)).not.toMatch(new RegExp(`^\\s+${call}$`, "m"));
    }
  }
  expect(members("@resources")).toMatch(/^\s+sched_setscheduler$/m);
  expect(members("@system-service")).toMatch(/^\s+@resources$/m);
});

describe.skipIf(noVerify !== undefined)(`systemd-analyze${noVerify ? ` (skipped: ${noVerify})` : ""}`, () => {
  const cases = [
    ...["base", "jetson-nano", "jetson-orin", "gpu-server", "t3-micro"].map((name) => ({ name, home: undefined })),
    { name: "base", home: "/home/athlete/.edgetrain" },
    { name: "t3-micro", home: "/srv/edge train" },
    { name: "jetson-orin", home: "/tmp/edgetrain" },
  ];

  test("verify passes on every built-in profile's unit", async () => {
    await using dir = tempDir();
    for (const [index, { name, home }] of cases.entries()) {
      const file = dir.write(`${name}-${index}.service`, unitFor(name, { home }));
      const verify = Bun.spawnSync([analyze!, "verify", file]);
      // The user need not exist on the machine that writes the unit.
      const lines = verify.stderr.toString().split("\n");
      const problems = lines.filter((line) => line && !line.includes("Special user") && !/user athlete/i.test(line));
      expect({ name, code: verify.exitCode, problems }).toEqual({ name, code: 0, problems: [] });
    }
  });

  const skipped = noSecurity ? ` (skipped: ${noSecurity})` : "";
  test.skipIf(noSecurity !== undefined)(`security rates every system unit at most 4.0 (OK)${skipped}`, async () => {
    await using dir = tempDir();
    for (const [index, { name, home }] of cases.entries()) {
      const file = dir.write(`${name}-${index}.service`, unitFor(name, { home }));
      const security = Bun.spawnSync([analyze!, "security", "--offline=true", "--no-pager", file]);
      const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(security.stdout.toString())?.[1]);
      expect({ name, home, score: score <= 4.0 ? "at most 4.0" : score }).toEqual({ name, home, score: "at most 4.0" });
    }
  });
});

test("service install --dry-run prints the unit it would write and writes nothing", async () => {
  await using dir = tempDir();
  const unitDir = join(dir.path, "units");
  const install = ["service", "install", "--profile", "gpu-server", "--run-as", "athlete", "--unit-dir", unitDir];
  const env = { PATH: process.env.PATH, HOME: dir.path, NO_COLOR: "1" };
  const run = (extra: string[]) => Bun.spawn([bun, cli, ...install, ...extra], { env, stdout: "pipe" });
  const dry = run(["--dry-run"]);
  const printed = await new Response(dry.stdout).text();
  expect(await dry.exited).toBe(0);
  expect(await Bun.file(join(unitDir, "edgetrain.service")).exists()).toBe(false);
  expect(printed).toContain("Type=notify\n");
  expect(printed).toContain("DeviceAllow=char-nvidia* rw\n");
  expect(await run([]).exited).toBe(0);
  expect(await Bun.file(join(unitDir, "edgetrain.service")).text()).toBe(printed);
});

test("a profile named by a relative path goes into the unit by its absolute path, where systemd starts", async () => {
  await using dir = tempDir();
  dir.write("conf/base.yaml", "extends: t3-micro\n");
  dir.write("conf/nano.yaml", "extends: base.yaml\n");
  const args = ["service", "install", "--dry-run", "--profile", "conf/nano.yaml", "--run-as", "athlete"];
  const result = await runCli(args, { home: dir.path, cwd: dir.path });
  expect(result.stderr).toBe("");
  expect(result.stdout).toMatch(new RegExp(` run --headless --profile ${dir.path}/conf/nano\\.yaml --home `));
  // A profile in /tmp would be hidden from the daemon by a private /tmp.
  if (dir.path.startsWith("/tmp/")) expect(values(result.stdout, "PrivateTmp")).toEqual(["no"]);
  const missing = await runCli(["service", "install", "--dry-run", "--profile", "gone.yaml"], {
    home: dir.path,
    cwd: dir.path,
  });
  expect(missing.code).toBe(3);
  expect(missing.stderr).toContain(join(dir.path, "gone.yaml"));
}, 30_000);
