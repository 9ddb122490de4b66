import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { runCli, tempDir } from "../helpers.ts";

/** A user's converter that claims `extensions` and refuses every file, naming it. */
const converter = (name: string, extensions: string[] | undefined) => `
export default {
  kind: "converter", name: "${name}", version: "0.1.0",
  ${extensions ? `extensions: ${JSON.stringify(extensions)},` : ""}
  options: ({ v }) => v.strictObject({}),
  setup: () => ({
    convert: async (request) => { throw new Error("cannot read " + request.file.split("/").pop() + " yet"); },
  }),
};
`;

describe("converter plugins", () => {
  test("a file goes to the converter of its extension; two that claim it are told apart with --converter", async () => {
    await using dir = tempDir();
    const home = join(dir.path, "home");
    dir.write("home/plugins/xgb.js", converter("xgb", [".ubj", ".model"]));
    dir.write("home/plugins/lgbm.js", converter("lgbm", [".model"]));
    const shared = dir.write("booster.model", "bytes");
    const own = dir.write("booster.ubj", "bytes");
    const cli = (args: string[]) => runCli([...args, "--home", home], { home: dir.path });

    const listed = JSON.parse((await cli(["plugins", "--json"])).stdout) as {
      plugins: Array<{ kind: string; name: string; source: string; extensions?: string[] }>;
    };
    expect(listed.plugins.filter((p) => p.kind === "converter" && p.source !== "built-in")).toMatchObject([
      { name: "lgbm", extensions: [".model"] },
      { name: "xgb", extensions: [".ubj", ".model"] },
    ]);
    const both = await cli(["models", "add", "boost", shared]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("booster.model: converters lgbm and xgb both take such files");
    expect(both.stderr).toContain("choose one with --converter lgbm");
    for (const args of [
      ["models", "add", "boost", shared, "--converter", "xgb"],
      ["models", "add", "boost", own],
    ]) {
      const chosen = await cli(args);
      expect(chosen.code).toBe(1);
      expect(chosen.stderr).toMatch(
        /booster\.\w+ was not converted by xgb: cannot read booster\.\w+ yet; model boost unchanged/,
      );
    }
    const unknown = await cli(["models", "add", "boost", own, "--converter", "catboost"]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain('unknown converter "catboost"');
    expect(JSON.parse((await cli(["models", "--json"])).stdout)).toEqual([]);
  }, 60_000);

  test("a converter that names no extensions is reported with its file", async () => {
    await using dir = tempDir();
    const file = dir.write("home/plugins/none.js", converter("none", undefined));
    const listed = await runCli(["plugins", "--home", join(dir.path, "home")], { home: dir.path });
    expect(listed.code).toBe(1);
    expect(listed.stderr).toContain(file);
    expect(listed.stderr).toContain('plugin converter "none" names no extensions');
  }, 30_000);

  test("converter options are checked by the converter's schema in the profile", async () => {
    await using dir = tempDir();
    dir.write("home/plugins/xgb.js", converter("xgb", [".ubj"]));
    const profile = dir.write("typo.yaml", "extends: base\nconverters:\n  xgb:\n    threads: 4\n  xgboost: {}\n");
    const checked = await runCli(["validate", profile, "--home", join(dir.path, "home")], { home: dir.path });
    expect(checked.code).toBe(1);
    const said = checked.stdout + checked.stderr;
    expect(said).toContain("converters.xgb");
    expect(said).toContain('unknown converter "xgboost"');
  }, 30_000);
});
