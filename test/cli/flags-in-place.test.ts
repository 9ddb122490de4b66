import { expect, test } from "bun:test";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

test("a flag where it does nothing is a usage error, never ignored", async () => {
  await using dir = tempDir();
  const csv = dir.write("rows.csv", "a,label\n1,0\n2,1\n3,0\n4,1\n");
  const home = join(dir.path, "home");
  const cases: Array<[string[], string]> = [
    [["models", "--activate"], "--activate applies to edgetrain models add, not to the list"],
    [["models", "--features", "a,b"], "--features applies to edgetrain models add"],
    [
      ["fit", "--strategy", "random-forest", "--data", csv, "--from", "missing.onnx"],
      "strategy random-forest does not start from a model",
    ],
    [["fit", "--strategy", "incremental-nn", "--data", csv, "--from", "missing.onnx"], "no such model file"],
    [["validate", csv, "--profile", "base"], "give the profile as FILE or as --profile, not both"],
    [["help", "fit", "extra"], 'unexpected "extra" after help fit'],
    [["--version", "extra"], 'unexpected "extra" after --version'],
    [["fleet", "devices", "extra"], 'edgetrain fleet devices lists them all: "extra" is not read'],
    [["fleet", "devices", "--model", "m", "--version", "abc"], "--version abc: expected a version number"],
  ];
  for (const [args, said] of cases) {
    const out = args[0] === "fit" ? ["--out", join(dir.path, "m.onnx")] : [];
    const run = await runCli([...args, ...out, "--home", home], { home: dir.path });
    expect({ args, code: run.code, said: run.stderr.includes(said) ? said : run.stderr }).toEqual({
      args,
      code: 2,
      said,
    });
  }
}, 60_000);

test("service uninstall refuses flags it would ignore, --dry-run first, and removes nothing", async () => {
  await using dir = tempDir();
  const unit = dir.write("units/edgetrain.service", "[Unit]\n");
  const units = join(dir.path, "units");
  const cases: Array<[string[], string]> = [
    [["service", "uninstall", "--dry-run", "--unit-dir", units], "--dry-run has no effect on uninstall"],
    [["service", "uninstall", "--profile", "base", "--unit-dir", units], "--profile has no effect on uninstall"],
    [["service", "install", "--dry-run", "--user", "--run-as", "root"], "--run-as applies to a system unit"],
  ];
  for (const [args, said] of cases) {
    const run = await runCli(args, { home: dir.path });
    expect({ args, code: run.code, said: run.stderr.includes(said) ? said : run.stderr }).toEqual({
      args,
      code: 2,
      said,
    });
  }
  expect(await Bun.file(unit).exists()).toBe(true);
}, 60_000);
