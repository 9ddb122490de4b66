import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

test("service install writes a systemd unit from the profile; uninstall removes it", async () => {
  await using dir = tempDir();
  const unitDir = join(dir.path, "units");
  const install = await runCli(
    [
      "service",
      "install",
      "--profile",
      "jetson-nano",
      "--home",
      join(dir.path, "home"),
      "--unit-dir",
      unitDir,
      "--run-as",
      "athlete",
    ],
    { home: dir.path },
  );
  expect(install.code).toBe(0);
  const unit = readFileSync(join(unitDir, "edgetrain.service"), "utf8");
  expect(unit).toContain("Restart=on-failure");
  expect(unit).toContain("User=athlete");
  expect(unit).toContain("CPUQuota=200%"); // jetson-nano: 2 workers
  expect(unit).toContain("MemoryMax=2560M"); // 2048 MB limit + daemon headroom
  expect(unit).toContain("StandardOutput=journal");
  expect(unit).toContain("ExecReload=/bin/kill -HUP $MAINPID");
  expect(unit).toMatch(/^ExecStart=.* run --headless --profile jetson-nano --home \S+home$/m);
  expect(unit).toContain("WantedBy=multi-user.target");
  expect(install.stdout).toContain("sudo systemctl enable --now edgetrain");
  const analyze = Bun.which("systemd-analyze");
  if (analyze) {
    const verify = Bun.spawnSync([analyze, "verify", join(unitDir, "edgetrain.service")]);
    expect({ code: verify.exitCode, stderr: verify.stderr.toString() }).toMatchObject({ code: 0 });
  }

  expect(
    (await runCli(["service", "install", "--run-as", "root", "--unit-dir", unitDir], { home: dir.path })).stderr,
  ).toContain("must not run as root");
  const user = await runCli(["service", "install", "--user", "--unit-dir", join(dir.path, "user-units")], {
    home: dir.path,
  });
  expect(readFileSync(join(dir.path, "user-units/edgetrain.service"), "utf8")).not.toContain("User=");
  expect(user.stdout).toContain("systemctl --user enable --now edgetrain");

  const removed = await runCli(["service", "uninstall", "--unit-dir", unitDir], { home: dir.path });
  expect(removed.stdout).toContain("removed");
  expect(existsSync(join(unitDir, "edgetrain.service"))).toBe(false);
});
