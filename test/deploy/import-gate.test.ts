import { afterAll, beforeAll, expect, test } from "bun:test";
import { join } from "node:path";
import { runCli, type TempDir, tempDir } from "../helpers.ts";

let dir: TempDir;
let home: string;
let model: string;
let csv: string;
let numbers: string;
let regressor: string;
let numberClasses: string;

const cli = (args: string[]) => runCli([...args, "--home", home], { home: dir.path });

/** Two classes that the first column decides, so that any forest scores well above chance. */
function classesCsv(low: string, high: string): string {
  const lines = ["a,b,c,label"];
  for (let i = 0; i < 200; i++) {
    const a = (i * 37) % 100;
    lines.push(`${a},${(i * 13) % 7},${(i * 7) % 11},${a < 50 ? low : high}`);
  }
  return `${lines.join("\n")}\n`;
}

/** A forest fitted on `data` by the CLI, written to `out`. */
async function fitted(data: string, out: string, task: "classification" | "regression"): Promise<string> {
  const args = ["fit", "--strategy", "random-forest", "--data", data, "--task", task, "--set", "n_estimators=5"];
  const fit = await cli([...args, "--out", out]);
  expect({ out, code: fit.code }).toEqual({ out, code: 0 });
  return out;
}

beforeAll(async () => {
  dir = tempDir();
  home = join(dir.path, "home");
  csv = dir.write("rows.csv", classesCsv("low", "high"));
  numbers = dir.write("numbers.csv", classesCsv("0", "1"));
  model = await fitted(csv, join(dir.path, "forest.onnx"), "classification");
  regressor = await fitted(numbers, join(dir.path, "regressor.onnx"), "regression");
  numberClasses = await fitted(numbers, join(dir.path, "number-classes.onnx"), "classification");
}, 120_000);
afterAll(async () => {
  await dir[Symbol.asyncDispose]();
});

test("an edgetrain classifier imported without --task is gated on accuracy, the second time as the first", async () => {
  for (const version of [1, 2]) {
    const added = await cli(["models", "add", "own", model, "--features-from", csv, "--activate"]);
    expect({ version, code: added.code, stderr: added.stderr }).toEqual({ version, code: 0, stderr: "" });
  }
  const [latest] = JSON.parse((await cli(["model", "own", "--json"])).stdout).versions;
  expect(latest).toMatchObject({ version: 2, status: "active", task: "classification", classes: ["high", "low"] });
  expect(latest.gate.metric).toBe("accuracy");
}, 60_000);

test("a task or names that the model contradicts are refused, nothing stored", async () => {
  const cases: Array<[string[], string]> = [
    [[model, "--task", "regression"], "answers classes (outputs label, probabilities), not as task regression says"],
    [[regressor, "--task", "classification"], "answers values (outputs variable), not as task classification says"],
    [[model, "--features", "a,a,b"], 'features names "a" twice'],
    [[model, "--classes", "low,low", "--task", "classification"], 'classes names "low" twice'],
  ];
  for (const [args, said] of cases) {
    const added = await cli(["models", "add", "refused", ...args]);
    expect({ args, code: added.code, said: added.stderr.includes(said) ? said : added.stderr }).toEqual({
      args,
      code: 1,
      said,
    });
  }
  expect((await cli(["model", "refused"])).code).not.toBe(0);
}, 60_000);

test("a candidate scored another way than the active version passes, compared against nothing", async () => {
  expect((await cli(["models", "add", "mixed", regressor, "--features-from", numbers, "--activate"])).code).toBe(0);
  const next = await cli(["models", "add", "mixed", numberClasses, "--features-from", numbers, "--activate"]);
  expect({ code: next.code, stderr: next.stderr }).toEqual({
    code: 0,
    stderr: expect.stringContaining("not comparable with accuracy: compared against nothing"),
  });
  const { versions } = JSON.parse((await cli(["model", "mixed", "--json"])).stdout);
  expect(versions[0]).toMatchObject({ version: 2, status: "active", task: "classification" });
}, 60_000);

test("class names that do not match the model's probabilities are refused, nothing stored", async () => {
  const added = await cli(["models", "add", "named", model, "--classes", "a,b,c", "--task", "classification"]);
  expect(added.code).toBe(1);
  expect(added.stderr).toContain("gives 2 class probabilities (output probabilities), but 3 classes are named");
  expect(added.stderr).toContain("model named unchanged");
  expect((await cli(["model", "named"])).code).not.toBe(0);
}, 60_000);

test("features_from that is a device or a folder is refused before it is read, nothing stored", async () => {
  for (const [path, said] of [
    ["/dev/zero", "/dev/zero is not a regular file"],
    [dir.path, `${dir.path} is not a regular file`],
  ] as const) {
    const added = await cli(["models", "add", "unread", model, "--features-from", path]);
    expect({ code: added.code, said: added.stderr.includes(said) }).toEqual({ code: 1, said: true });
  }
  expect((await cli(["model", "unread"])).code).not.toBe(0);
}, 60_000);
