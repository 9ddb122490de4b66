import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync } from "node:fs";
import { join } from "node:path";
import { runCli, startDaemonProcess, tempDir } from "../helpers.ts";
import { closeTo, type FrameworkModel, frameworkModel } from "../serving/foreign-models.ts";

// TensorFlow is large and absent from most machines (and from Debian's packages): tested only where it exists.
const keras = frameworkModel("keras");
const dir = tempDir();
afterAll(() => dir[Symbol.asyncDispose]());

describe("edgetrain models add of a Keras file", () => {
  test("a Python without tf2onnx is refused with what to install and where to name another Python", async () => {
    const bare = dir.write("bare-python", '#!/bin/sh\nexec /usr/bin/python3 -S "$@"\n');
    chmodSync(bare, 0o755);
    const profile = dir.write("bare.yaml", `extends: base\nconverters:\n  keras:\n    python: ${bare}\n`);
    const file = dir.write("net.keras", "a zip, were it real");
    const home = join(dir.path, "bare-home");
    const added = await runCli(["models", "add", "net", file, "--home", home, "--profile", profile], {
      home: dir.path,
    });
    expect(added.code).toBe(1);
    expect(added.stderr).toContain(
      `net.keras was not converted by keras: tf2onnx (with TensorFlow) is not installed for ${bare} (no module ` +
        "tf2onnx): install it (pip install tensorflow tf2onnx), or name a Python that has it in the profile: " +
        "converters: { keras: { python: /path/to/python3 } }; model net unchanged",
    );
  }, 60_000);

  test.skipIf(typeof keras === "string")(
    "through the daemon: a Keras model answers through /v1 and /v2 as Keras does" +
      (typeof keras === "string" ? ` (skipped: ${keras})` : ""),
    async () => {
      const { model, rows, expected } = keras as FrameworkModel;
      const home = join(dir.path, "home");
      const daemon = await startDaemonProcess(home, ["--home", home, "--headless"]);
      try {
        const added = await runCli(["models", "add", "net", model, "--activate", "--home", home], { home: dir.path });
        expect({ code: added.code, stderr: added.stderr }).toEqual({ code: 0, stderr: "" });
        expect(added.stdout).toContain("converted by keras: Keras Sequential, input [batch, 4]");
        const post = async (path: string, body: unknown) =>
          (
            await fetch(`${daemon.url}${path}`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify(body),
            })
          ).json();
        const v1 = (await post("/v1/predict/net", { inputs: rows })) as { outputs: Array<Record<string, number[]>> };
        expect(
          closeTo(
            v1.outputs.map((row) => Object.values(row)[0]),
            expected.outputs,
          ),
        ).toBe(true);
        const v2 = (await post("/v2/models/net/infer", {
          inputs: [{ name: "input", shape: [rows.length, 4], datatype: "FP32", data: (rows as number[][]).flat() }],
        })) as { outputs: Array<{ data: number[] }> };
        expect(closeTo(v2.outputs[0]!.data, (expected.outputs as number[][]).flat())).toBe(true);
      } finally {
        daemon.proc.kill("SIGTERM");
        await daemon.proc.exited;
      }
    },
    240_000,
  );
});
