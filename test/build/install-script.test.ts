import { expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { bun, cli, repoRoot, tempDir } from "../helpers.ts";

const script = join(repoRoot, "scripts/install.sh");
const canAddUsers = Boolean(Bun.which("useradd"));

/** A stand-in for a built binary: the CLI from source, behind a script, so no build is needed. */
function standIn(dir: { write(relative: string, text: string): string }, name = "edgetrain-t3-micro") {
  const file = dir.write(`dist/${name}`, `#!/bin/sh\nexec ${bun} ${cli} "$@"\n`);
  chmodSync(file, 0o755);
  return file;
}

function install(args: string[], root: string, cwd?: string) {
  return Bun.spawnSync(["sh", script, ...args], {
    cwd,
    env: { PATH: process.env.PATH, DESTDIR: root, PREFIX: "/usr/local", HOME: root },
    stdout: "pipe",
    stderr: "pipe",
  });
}

test.skipIf(!canAddUsers)(
  "install.sh puts the binary, the service user, the home and the unit into a root",
  async () => {
    await using dir = tempDir();
    const binary = standIn(dir);
    const root = join(dir.path, "root");
    const result = install([binary, "--profile", "t3-micro"], root);
    expect(result.stderr.toString()).not.toContain("error");
    expect(result.exitCode).toBe(0);
    const installed = join(root, "usr/local/bin/edgetrain");
    expect(statSync(installed).mode & 0o777).toBe(0o755);
    expect(readFileSync(join(root, "etc/passwd"), "utf8")).toMatch(/^edgetrain:x:\d+:\d+::\/var\/lib\/edgetrain:/m);
    expect(existsSync(join(root, "var/lib/edgetrain"))).toBe(true);
    expect(existsSync(join(root, "var/log/edgetrain"))).toBe(true);
    const unit = readFileSync(join(root, "etc/systemd/system/edgetrain.service"), "utf8");
    expect(unit).toContain("Type=notify");
    expect(unit).toContain("User=edgetrain");
    expect(unit).toContain("ExecStart=/usr/local/bin/edgetrain");
    expect(unit).not.toContain(root);
    // A second run finds the user and leaves it as it is.
    expect(install([binary], root).exitCode).toBe(0);
    expect(readFileSync(join(root, "etc/passwd"), "utf8").match(/^edgetrain:/gm)).toHaveLength(1);
  },
  60_000,
);

test("install.sh refuses a binary that does not match its SHA256SUMS, and unexpected arguments", async () => {
  await using dir = tempDir();
  const binary = standIn(dir);
  dir.write("dist/SHA256SUMS", `${"0".repeat(64)}  edgetrain-t3-micro\n`);
  const root = join(dir.path, "root");
  const damaged = install([binary], root);
  expect(damaged.exitCode).toBe(1);
  expect(damaged.stderr.toString()).toContain("does not match its SHA256SUMS entry");
  expect(existsSync(join(root, "usr/local/bin/edgetrain"))).toBe(false);
  const usage = install([binary, "--colour"], root);
  expect(usage.exitCode).toBe(2);
  expect(usage.stderr.toString()).toContain('unexpected argument "--colour"');
});

test("install.sh checks the service user before it changes anything: refuses root and a two-line name", async () => {
  await using dir = tempDir();
  const binary = standIn(dir);
  const root = join(dir.path, "root");
  for (const user of ["root", "bob\nUser=root"]) {
    const refused = install([binary, "--run-as", user], root);
    expect({ user, code: refused.exitCode }).toEqual({ user, code: 2 });
    expect(refused.stderr.toString()).toContain("--run-as: ");
    // Nothing installed: no binary, no /etc/passwd with a user named root in it.
    for (const made of ["usr/local/bin/edgetrain", "etc/passwd", "var/lib/edgetrain"])
      expect({ made, exists: existsSync(join(root, made)) }).toEqual({ made, exists: false });
  }
}, 60_000);

test.skipIf(!canAddUsers)(
  "install.sh writes a profile given by a relative path into the unit by its absolute path",
  async () => {
    await using dir = tempDir();
    const binary = standIn(dir);
    dir.write("nano.yaml", "extends: t3-micro\n");
    const root = join(dir.path, "root");
    const result = install([binary, "--profile", "nano.yaml"], root, dir.path);
    expect(result.stderr.toString()).not.toContain("error");
    expect(result.exitCode).toBe(0);
    const unit = readFileSync(join(root, "etc/systemd/system/edgetrain.service"), "utf8");
    expect(unit).toContain(` --profile ${join(dir.path, "nano.yaml")} `);
  },
  60_000,
);
