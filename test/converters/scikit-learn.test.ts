import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, readFileSync } from "node:fs";
import { basename, join } from "node:path";
import { runCli, startDaemonProcess, tempDir } from "../helpers.ts";
import { closeTo, closeToRelative, type FrameworkModel, frameworkModel } from "../serving/foreign-models.ts";

const FORESTS = {
  iris: "random-forest-classifier",
  cancer: "extra-trees-classifier",
  diabetes: "random-forest-regressor",
  sugar: "extra-trees-regressor",
} as const;
const made = Object.fromEntries(Object.entries(FORESTS).map(([name, kind]) => [name, frameworkModel(kind)]));
const boosted = frameworkModel("gradient-boosting");
const missing = [...Object.values(made), boosted].find((m): m is string => typeof m === "string");
const forest = (name: keyof typeof FORESTS) => made[name] as FrameworkModel;
type ImportedVersion = { imported: { file: string; sha256: string }; classes: string[] };

const dir = tempDir();
afterAll(() => dir[Symbol.asyncDispose]());
const sha256 = (file: string) => new Bun.CryptoHasher("sha256").update(readFileSync(file)).digest("hex");

type V1 = { outputs: Array<{ label: string; probabilities: Record<string, number> } | number> };
type V2 = { outputs: Array<{ name: string; datatype: string; shape: number[]; data: number[] }> };

describe.skipIf(missing !== undefined)(
  `edgetrain models add of a scikit-learn pickle${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    test("through the daemon: each forest kind answers through /v1 and /v2 as scikit-learn does", async () => {
      const home = join(dir.path, "home");
      const daemon = await startDaemonProcess(home, ["--home", home, "--headless"]);
      try {
        const post = async (path: string, body: unknown) =>
          (
            await fetch(`${daemon.url}${path}`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(body),
            })
          ).json();
        for (const name of Object.keys(FORESTS) as Array<keyof typeof FORESTS>) {
          const { model, rows, expected } = forest(name);
          const added = await runCli(["models", "add", name, model, "--activate", "--home", home], { home: dir.path });
          expect({ name, code: added.code, stderr: added.stderr }).toEqual({ name, code: 0, stderr: "" });
          expect(added.stdout).toContain(`${name}: version 1 imported from ${model}`);
          expect(added.stdout).toMatch(
            /converted by scikit-learn: (RandomForest|ExtraTrees)\w+ of \d+ trees on \d+ features/,
          );
          const version = (
            (await (await fetch(`${daemon.url}/v1/models/${name}`)).json()) as { versions: ImportedVersion[] }
          ).versions[0]!;
          expect(version).toMatchObject({
            source: "import",
            status: "active",
            imported: { converter: "scikit-learn" },
          });
          expect(version.imported.file).toBe(basename(model));
          expect(version.imported.sha256).toBe(sha256(model));

          const v1 = (await post(`/v1/predict/${name}`, { inputs: rows })) as V1;
          const v2 = (await post(`/v2/models/${name}/infer`, {
            inputs: [
              {
                name: "features",
                shape: [rows.length, (rows[0] as number[]).length],
                datatype: "FP32",
                data: rows.flat(),
              },
            ],
          })) as V2;
          if (expected.labels) {
            const answers = v1.outputs as Array<{ label: string; probabilities: Record<string, number> }>;
            expect(answers.map((a) => a.label)).toEqual(expected.labels);
            expect(
              closeTo(
                answers.map((a) => Object.values(a.probabilities)),
                expected.probabilities,
              ),
            ).toBe(true);
            const [labels, probabilities] = v2.outputs;
            expect(labels!.data.map((index) => version.classes[index])).toEqual(expected.labels);
            expect(closeTo(probabilities!.data, expected.probabilities!.flat())).toBe(true);
          } else {
            expect(closeToRelative(v1.outputs as number[], expected.values!)).toBe(true);
            expect(v2.outputs[0]!.shape).toEqual([rows.length, 1]);
            expect(closeToRelative(v2.outputs[0]!.data, expected.values!)).toBe(true);
          }
        }
      } finally {
        daemon.proc.kill("SIGTERM");
        await daemon.proc.exited;
      }
    }, 180_000);

    test("without a daemon: another estimator, no pickle, no scikit-learn: refused, nothing stored", async () => {
      const home = join(dir.path, "refusals");
      const cli = (args: string[]) => runCli([...args, "--home", home], { home: dir.path });
      const notes = dir.write("notes.pkl", "my notes, not a pickle\n");
      // Python without its site packages: Debian's scikit-learn is not on its path.
      const bare = dir.write("bare-python", '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
      chmodSync(bare, 0o755);
      const profile = (python: string) =>
        dir.write(
          `profile-${basename(python)}.yaml`,
          `extends: base\nconverters:\n  scikit-learn:\n    python: ${python}\n`,
        );
      const cases: Array<[string[], string]> = [
        [
          ["models", "add", "boosted", (boosted as FrameworkModel).model],
          "boosted.pkl was not converted by scikit-learn: holds a sklearn.ensemble._gb.GradientBoostingClassifier: " +
            "the scikit-learn converter takes RandomForestClassifier, RandomForestRegressor, ExtraTreesClassifier " +
            "and ExtraTreesRegressor; model boosted unchanged",
        ],
        [
          ["models", "add", "notes", notes],
          "notes.pkl was not converted by scikit-learn: is not a pickle that loads (",
        ],
        [
          ["models", "add", "iris", forest("iris").model, "--profile", profile(bare)],
          `was not converted by scikit-learn: scikit-learn is not installed for ${bare} (no module sklearn): ` +
            "install it (apt install python3-sklearn, or pip install scikit-learn), or name a Python that has it " +
            "in the profile: converters: { scikit-learn: { python: /path/to/python3 } }",
        ],
        [
          ["models", "add", "iris", forest("iris").model, "--profile", profile("/nowhere/python3")],
          "scikit-learn is not installed for /nowhere/python3 (not found)",
        ],
      ];
      for (const [args, message] of cases) {
        const { code, stderr } = await cli(args);
        expect({ args, code, stderr: stderr.includes(message) ? message : stderr }).toEqual({
          args,
          code: 1,
          stderr: message,
        });
      }
      const misspelled = await cli([
        "validate",
        "--profile",
        dir.write("typo.yaml", "extends: base\nconverters:\n  scikit-learn:\n    pyton: /usr/bin/python3\n"),
      ]);
      expect(misspelled.code).toBe(1);
      expect(misspelled.stdout + misspelled.stderr).toContain("converters.scikit-learn.pyton");
      expect(JSON.parse((await cli(["models", "--json"])).stdout)).toEqual([]);
    }, 120_000);
  },
);
