import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { runCli, startDaemonProcess, tempDir } from "../helpers.ts";
import { closeTo, type FrameworkKind, type FrameworkModel, frameworkModel } from "../serving/foreign-models.ts";

const kinds = ["torch-script", "torch-module", "torch-image", "torch-state-dict", "torch-main-class"] as const;
const made = Object.fromEntries(kinds.map((kind) => [kind, frameworkModel(kind as FrameworkKind)]));
const missing = Object.values(made).find((m): m is string => typeof m === "string");
const saved = (kind: (typeof kinds)[number]) => made[kind] as FrameworkModel;

const dir = tempDir();
afterAll(() => dir[Symbol.asyncDispose]());

describe.skipIf(missing !== undefined)(
  `edgetrain models add of a PyTorch file${missing ? ` (skipped: ${missing})` : ""}`,
  () => {
    test("through the daemon: TorchScript and pickled modules answer through /v1 and /v2 as PyTorch does", async () => {
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
        const cases: Array<[string, (typeof kinds)[number], string[], number[]]> = [
          ["script", "torch-script", [], [-1, 4]],
          ["module", "torch-module", ["--example-input", "1,4"], [-1, 4]],
          ["image", "torch-image", ["--example-input", "1,3,8,8"], [-1, 3, 8, 8]],
        ];
        for (const [name, kind, flags, shape] of cases) {
          const { model, rows, expected } = saved(kind);
          const added = await runCli(["models", "add", name, model, ...flags, "--activate", "--home", home], {
            home: dir.path,
          });
          expect({ name, code: added.code, stderr: added.stderr }).toEqual({ name, code: 0, stderr: "" });
          expect(added.stdout).toContain("converted by pytorch: ");
          const metadata = (await (await fetch(`${daemon.url}/v2/models/${name}`)).json()) as Record<string, unknown>;
          expect(metadata.inputs).toEqual([{ name: "input", datatype: "FP32", shape }]);

          const v1 = (await post(`/v1/predict/${name}`, { inputs: { input: rows } })) as {
            outputs: Array<{ output: number[] }>;
          };
          expect(
            closeTo(
              v1.outputs.map((row) => row.output),
              expected.outputs,
            ),
          ).toBe(true);
          const dims = [rows.length, ...shape.slice(1)];
          const v2 = (await post(`/v2/models/${name}/infer`, {
            inputs: [{ name: "input", shape: dims, datatype: "FP32", data: (rows as number[][]).flat(3) }],
          })) as { outputs: Array<{ name: string; shape: number[]; data: number[] }> };
          expect(v2.outputs.map((o) => [o.name, o.shape[0]])).toEqual([["output", rows.length]]);
          expect(closeTo(v2.outputs[0]!.data, (expected.outputs as number[][]).flat())).toBe(true);
        }
      } finally {
        daemon.proc.kill("SIGTERM");
        await daemon.proc.exited;
      }
    }, 240_000);

    test("without a daemon: weights alone, an unknown shape or class, no torch: refused, nothing stored", async () => {
      const home = join(dir.path, "refusals");
      const cli = (args: string[]) => runCli([...args, "--home", home], { home: dir.path });
      const bare = dir.write("bare-python", '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
      chmodSync(bare, 0o755);
      const noTorch = dir.write("no-torch.yaml", `extends: base\nconverters:\n  pytorch:\n    python: ${bare}\n`);
      const cases: Array<[string[], string]> = [
        [
          ["models", "add", "weights", saved("torch-state-dict").model],
          "torch-state-dict.pt was not converted by pytorch: holds a state_dict (weights without the network): " +
            "save the model itself: torch.jit.save(torch.jit.script(model), path) or torch.save(model, path); " +
            "model weights unchanged",
        ],
        [
          ["models", "add", "image", saved("torch-image").model],
          "does not say the shape of its input: give it with --example-input SHAPE (such as 1,3,224,224)",
        ],
        [
          ["models", "add", "image", saved("torch-image").model, "--example-input", "1,5,8,8"],
          "does not run on an input of shape [1, 5, 8, 8]",
        ],
        [
          ["models", "add", "doubler", saved("torch-main-class").model, "--example-input", "1,4"],
          "its model's class cannot be found (Can't get attribute 'Doubler' on <module '__main__'",
        ],
        [
          ["models", "add", "script", saved("torch-script").model, "--profile", noTorch],
          `PyTorch is not installed for ${bare} (no module torch): ` +
            "install it (apt install python3-torch, or pip install torch)",
        ],
        [
          ["models", "add", "script", saved("torch-script").model, "--example-input", "1,x"],
          "--example-input: a shape",
        ],
      ];
      for (const [args, message] of cases) {
        const { code, stderr } = await cli(args);
        expect({ args, stderr: stderr.includes(message) ? message : stderr }).toEqual({ args, stderr: message });
        expect(code).toBe(args.includes("1,x") ? 2 : 1);
      }
      expect(JSON.parse((await cli(["models", "--json"])).stdout)).toEqual([]);
    }, 180_000);
  },
);
