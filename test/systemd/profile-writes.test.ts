import { expect, test } from "bun:test";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { runMain } from "../cli/capture.ts";
import { tempDir } from "../helpers.ts";

const analyze = Bun.which("systemd-analyze");
const systemdVersion = Number(
  /systemd (\d+)/.exec(analyze ? Bun.spawnSync([analyze, "--version"]).stdout.toString() : "")?.[1] ?? 0,
);

/** The profile of a Nano that serves from /opt/app: its store, its deploys and its predictor's lock elsewhere. */
const PROFILE = `extends: t3-micro
paths: { models: /data/models, cache: cache }
conflicts:
  predictors: [{ name: live, lockfile: /run/predictor/live.lock }]
jobs:
  activity:
    strategy: command
    options: { command: [sh, train.sh] }
    deploy:
      - gate
      - activate
      - { type: copy-to-dir, dir: /opt/app/models, previous_dir: /opt/app/models-previous }
      - { type: copy-to-dir, dir: /opt/app/models/ }
  nightly:
    score: predictions
    model: activity
    data: { source: rows, path: incoming }
    options: { dir: /srv/predictions/../predictions }
`;

function values(unit: string, key: string): string[] {
  return [...unit.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((match) => match[1]!);
}

test("a system unit opens every folder its profile writes outside the service home, each once", async () => {
  await using dir = tempDir();
  const profile = dir.write("nano.yaml", PROFILE);
  const args = ["service", "install", "--dry-run", "--profile", profile, "--run-as", "athlete"];
  const result = await runMain(args, { home: dir.path });
  expect(result.stderr).toBe("");
  const unit = result.stdout;
  expect(values(unit, "StateDirectory")).toEqual(["edgetrain"]);
  // paths.cache is relative: inside the service home, which StateDirectory= opens.
  expect(values(unit, "ReadWritePaths")).toEqual([
    "-/data/models",
    "-/opt/app/models",
    "-/opt/app/models-previous",
    "-/srv/predictions",
    "-/run/predictor",
  ]);
  if (!analyze) return;
  const file = dir.write("edgetrain.service", unit);
  const verify = Bun.spawnSync([analyze, "verify", file]);
  const problems = verify.stderr
    .toString()
    .split("\n")
    .filter((line) => line && !/user athlete/i.test(line));
  expect({ code: verify.exitCode, problems }).toEqual({ code: 0, problems: [] });
  if (systemdVersion < 250) return;
  const security = Bun.spawnSync([analyze, "security", "--offline=true", "--no-pager", file]);
  const score = Number(/Overall exposure level for \S+: ([\d.]+)/.exec(security.stdout.toString())?.[1]);
  expect(score).toBeLessThanOrEqual(4.0);
}, 30_000);

test("service install says to make the writable folders that do not exist yet, for the service's user", async () => {
  await using dir = tempDir();
  const existing = join(dir.path, "served");
  mkdirSync(existing);
  const missing = join(dir.path, "previous models");
  const profile = dir.write(
    "nano.yaml",
    `extends: t3-micro
jobs:
  activity:
    strategy: command
    options: { command: [sh, train.sh] }
    deploy: [{ type: copy-to-dir, dir: ${existing}, previous_dir: "${missing}" }]
`,
  );
  const unitDir = join(dir.path, "units");
  const args = ["service", "install", "--profile", profile, "--run-as", "athlete", "--unit-dir", unitDir, "--json"];
  const result = await runMain(args, { home: dir.path });
  expect(result.code).toBe(0);
  const { next } = JSON.parse(result.stdout) as { next: string[] };
  expect(next.filter((line) => line.includes("install -d"))).toEqual([
    `sudo install -d -m 0750 -o athlete '${missing}'`,
  ]);
});
