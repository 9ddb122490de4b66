import { describe, expect, test } from "bun:test";
import { dirname } from "node:path";
import { resolveProfile } from "../../runtime/config/validate-profile.ts";
import { profileJsonSchema, schemaFile } from "../../scripts/generate-schema.ts";
import { runCli, tempDir, testEnvironment } from "../helpers.ts";

const optionsPlugin = `
export default {
  kind: "strategy", name: "tiny-forest", version: "0.1.0",
  options: ({ v }) => v.strictObject({ n_estimators: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1)), 10) }),
  setup: () => ({ train: async () => ({ artifact: "m.onnx", metrics: {} }) }),
};`;

async function problemsOf(yaml: string, files: Record<string, string> = {}) {
  await using dir = tempDir();
  for (const [name, text] of Object.entries(files)) dir.write(name, text);
  const file = dir.write("profile.yaml", `paths:\n  home: ${dir.path}\n${yaml}`);
  const { problems } = await resolveProfile(file, testEnvironment(dir.path));
  return problems.map((p) => ({
    line: p.line,
    column: p.column,
    path: p.path,
    message: p.message,
    hint: p.hint,
    severity: p.severity,
  }));
}

describe("validate", () => {
  test("YAML syntax errors are located by line and column", async () => {
    const problems = await problemsOf("governor:\n  pause_cpu: [90\napi:\n  port: 1\n");
    expect(problems.length).toBeGreaterThan(0);
    expect(problems[0]!.message).toStartWith("YAML:");
    expect(problems[0]!.line).toBeGreaterThanOrEqual(4);
  });

  test("a duplicate key is a YAML error at the second key", async () => {
    const problems = await problemsOf("api:\n  port: 1\n  port: 2\n");
    expect(problems[0]).toMatchObject({ line: 5, column: 3 });
    expect(problems[0]!.message).toContain("unique");
  });

  test("every problem at once: misspelled key, wrong type, out of range, bad enum, bad duration", async () => {
    const problems = await problemsOf(
      "governor:\n  sample_intervl: 2s\n  pause_cpu: high\n  max_pause: soon\napi:\n  port: 99999\nlogging:\n  " +
        "level: loud\n",
    );
    expect(problems).toEqual([
      {
        line: 4,
        column: 3,
        path: "governor.sample_intervl",
        message: 'unknown key "sample_intervl"',
        hint: 'did you mean "sample_interval"?',
        severity: "error",
      },
      {
        line: 5,
        column: 14,
        path: "governor.pause_cpu",
        message: 'expected number, got "high"',
        hint: undefined,
        severity: "error",
      },
      {
        line: 6,
        column: 14,
        path: "governor.max_pause",
        message: 'expected a duration such as "500ms", "10s", "5m", "6h", "7d", got "soon"',
        hint: undefined,
        severity: "error",
      },
      {
        line: 8,
        column: 9,
        path: "api.port",
        message: "expected <=65535, got 99999",
        hint: undefined,
        severity: "error",
      },
      {
        line: 10,
        column: 10,
        path: "logging.level",
        message: 'expected ("debug" | "info" | "warn" | "error"), got "loud"',
        hint: undefined,
        severity: "error",
      },
    ]);
  });

  test("governor settings that cannot work: zero intervals, thresholds out of order, short max_pause", async () => {
    const problems = await problemsOf(
      "governor:\n  sample_interval: 0s\n  latency_guard: { window: 0s }\n  max_cpu_before: 99\n  pause_cpu: 50\n" +
        "  resume_cpu: 95\n  pause_memory: 80\n  resume_memory: 80\n  max_memory_before: 70\n  pause_gpu: 70\n" +
        "  resume_gpu: 90\n  max_gpu_before: 60\n  gpu_memory_fraction: 0.5\n  max_gpu_memory_before: 60\n",
    );
    const said = problems.map((p) => `${p.line}:${p.column} ${p.path} ${p.message}`);
    const late = "a run would start only to be paused";
    const flaps = "with no gap between the two, runs would pause and resume in turn around one load";
    expect(said).toEqual([
      '4:20 governor.sample_interval expected at least 100ms, got "0s"',
      '5:28 governor.latency_guard.window expected at least 100ms, got "0s"',
      `6:19 governor.max_cpu_before expected at most pause_cpu 50, got 99: ${late}`,
      `8:15 governor.resume_cpu expected below pause_cpu 50, got 95: ${flaps}`,
      `10:18 governor.resume_memory expected below pause_memory 80, got 80: ${flaps}`,
      `13:15 governor.resume_gpu expected below pause_gpu 70, got 90: ${flaps}`,
      `16:26 governor.max_gpu_memory_before expected at most gpu_memory_fraction 0.5 (50 %), got 60: ${late}`,
    ]);
    // A pause ends only after pause_after calm samples, 3 s here: a max_pause of 2s would cancel every paused run.
    const short = await problemsOf("governor:\n  sample_interval: 1s\n  pause_after: 3\n  max_pause: 2s\n");
    expect(short).toEqual([
      {
        line: 6,
        column: 14,
        path: "governor.max_pause",
        message:
          'expected longer than pause_after × sample_interval (3 × 1s), got "2s": a pause lasts at least that long, ' +
          "so every pause would cancel the run",
        hint: undefined,
        severity: "error",
      },
    ]);
    // A pause threshold of 100 never pauses: nothing has to stay under it (the demo's profile).
    expect(await problemsOf("governor: { max_cpu_before: 100, pause_cpu: 100, resume_cpu: 100 }\n")).toEqual([]);
    // A start limit of 100 sets none: a run always starts, and pauses on a spike past pause_cpu.
    expect(
      await problemsOf("governor: { max_cpu_before: 100, max_memory_before: 100, max_gpu_before: 100 }\n"),
    ).toEqual([]);
  });

  test("the built-in profiles keep their governor thresholds in order", async () => {
    for (const name of ["base", "jetson-nano", "jetson-orin", "gpu-server", "t3-micro"]) {
      await using dir = tempDir();
      const { problems } = await resolveProfile(name, testEnvironment(dir.path));
      expect({ name, problems }).toEqual({ name, problems: [] });
    }
  });

  test("a misspelled top-level section gets a suggestion", async () => {
    const problems = await problemsOf("govenor:\n  pause_cpu: 80\n");
    expect(problems).toEqual([
      {
        line: 3,
        column: 1,
        path: "govenor",
        message: 'unknown key "govenor"',
        hint: 'did you mean "governor"?',
        severity: "error",
      },
    ]);
  });

  test("a missing required key points at its parent", async () => {
    const problems = await problemsOf("jobs:\n  nightly:\n    triggers: [{ type: manual }]\n");
    expect(problems).toEqual([
      {
        line: 5,
        column: 5,
        path: "jobs.nightly.strategy",
        message: 'missing required key "strategy" (or "score", for a batch scoring job)',
        hint: undefined,
        severity: "error",
      },
    ]);
  });

  test("unknown strategy lists the known ones; plugin options are checked by the plugin's schema", async () => {
    const problems = await problemsOf(
      "jobs:\n  a:\n    strategy: tiny-forst\n  b:\n    strategy: tiny-forest\n    options:\n      n_estimators: 0\n " +
        "     depth: 3\n    triggers:\n      - type: manul\n",
      { "plugins/tiny-forest.js": optionsPlugin },
    );
    expect(problems).toEqual([
      {
        line: 5,
        column: 15,
        path: "jobs.a.strategy",
        message: 'unknown strategy "tiny-forst"',
        hint: 'did you mean "tiny-forest"? known strategies: command, incremental-nn, random-forest, tiny-forest',
        severity: "error",
      },
      {
        line: 9,
        column: 21,
        path: "jobs.b.options.n_estimators",
        message: "expected >=1, got 0",
        hint: undefined,
        severity: "error",
      },
      {
        line: 10,
        column: 7,
        path: "jobs.b.options.depth",
        message: 'unknown key "depth"',
        hint: "known keys: n_estimators",
        severity: "error",
      },
      {
        line: 12,
        column: 15,
        path: "jobs.b.triggers[0].type",
        message: 'unknown trigger "manul"',
        hint:
          'did you mean "manual"? known triggers: accuracy-below, cron, manual, model-missing, new-data, ' +
          "samples-above",
        severity: "error",
      },
    ]);
  });

  test("extends of a profile that does not exist names the line and the built-ins", async () => {
    const problems = await problemsOf("extends: jetson-nanoo\n");
    expect(problems[0]).toMatchObject({ line: 3, column: 10, path: "extends" });
    expect(problems[0]!.hint).toContain("jetson-nano");
  });

  test("the CLI prints file:line:col and exits 1 on problems, 0 on a good profile", async () => {
    await using dir = tempDir();
    const bad = dir.write("bad.yaml", "governor:\n  pause_cpu: high\n");
    const failed = await runCli(["validate", bad], { home: dir.path });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toContain(`${bad}:2:14  governor.pause_cpu  expected number, got "high"`);
    const good = await runCli(["validate", "--profile", "jetson-nano"], { home: dir.path });
    expect(good.code).toBe(0);
    expect(good.stdout).toContain("ok: profiles/base.yaml ← profiles/jetson-nano.yaml");
  });

  test("a daemon refuses to start on a sample_interval of 0, naming the file and line", async () => {
    await using dir = tempDir();
    const profile = dir.write("p.yaml", "governor:\n  sample_interval: 0s\n");
    const started = await runCli(["run", "--port", "0", "--profile", profile, "--home", `${dir.path}/home`], {
      home: dir.path,
    });
    expect(started.code).toBe(3);
    expect(started.stderr).toContain(`${profile}:2:20  governor.sample_interval  expected at least 100ms, got "0s"`);
  }, 30_000);

  test("an api.token with whitespace at an end or a control character is refused where it is written, and not " +
    "shown", async () => {
    await using dir = tempDir();
    const token = "abcdefghijklmnopqrstuvwxyz";
    const rule =
      "api.token  a token with no control character and no whitespace at its ends (no request could send it as " +
      "Authorization: Bearer): ";
    const spaced = dir.write("spaced.yaml", `device:\n  name: d\napi:\n  token: "${token} "\n`);
    const literal = await runCli(["validate", spaced], { home: dir.path });
    expect(literal.code).toBe(1);
    expect(literal.stdout).toContain(`${spaced}:4:10  ${rule}it ends with whitespace`);
    expect(literal.stdout).not.toContain(token);
    // The usual way in: a variable filled from a file or `echo`, its newline kept.
    const variable = dir.write("variable.yaml", "api:\n  token: ${EDGETRAIN_TOKEN}\n");
    const home = ["--home", `${dir.path}/home`];
    const env = { EDGETRAIN_TOKEN: `${token}\n` };
    const validated = await runCli(["validate", variable, ...home], { home: dir.path, env });
    expect(validated.code).toBe(1);
    expect(validated.stdout).toContain(`${variable}:2:10  ${rule}it holds a newline at character 27 of 27`);
    expect(validated.stdout).not.toContain(token);
    const started = await runCli(["run", "--port", "0", "--profile", variable, ...home], { home: dir.path, env });
    expect(started.code).toBe(3);
    expect(started.stderr).toContain(`${variable}:2:10  ${rule}it holds a newline`);
    const leading = await runCli(["validate", variable, ...home], {
      home: dir.path,
      env: { EDGETRAIN_TOKEN: ` ${token}` },
    });
    expect(leading.stdout).toContain(`${rule}it starts with whitespace`);
    const fine = await runCli(["validate", variable, ...home], { home: dir.path, env: { EDGETRAIN_TOKEN: token } });
    expect(fine.code).toBe(0);
  }, 30_000);

  test("a folder as the profile (argument, flag, variable, extends) is a profile problem, not exit 70", async () => {
    await using dir = tempDir();
    const folder = dir.write("folder/.keep", "");
    const home = ["--home", `${dir.path}/home`];
    const message = "is a folder, not a profile file";
    const validated = await runCli(["validate", `${dir.path}/folder`, ...home], { home: dir.path });
    expect(validated.code).toBe(1);
    expect(validated.stdout).toContain(`${dir.path}/folder  profile "${dir.path}/folder" ${message}`);
    const flagged = await runCli(["train", "x", "--profile", `${dir.path}/folder`, ...home], { home: dir.path });
    expect(flagged.code).toBe(3);
    expect(flagged.stderr).toContain(message);
    const variable = await runCli(["train", "x", ...home], { home: dir.path, env: { EDGETRAIN_PROFILE: dir.path } });
    expect(variable.code).toBe(3);
    expect(variable.stderr).toContain(`profile "${dir.path}" ${message}`);
    const extending = dir.write("extends.yaml", "extends: ./folder\n");
    const extended = await runCli(["run", "--port", "0", "--profile", extending, ...home], { home: dir.path });
    expect(extended.code).toBe(3);
    expect(extended.stderr).toContain(`${extending}:1:10  extends  profile "./folder" ${message} (${dirname(folder)})`);
  }, 30_000);

  test("a YAML alias bomb is a profile problem naming the file, not exit 70", async () => {
    await using dir = tempDir();
    const levels = "abcdefghi".split("");
    const lines = levels.map((name, i) => {
      const items = i === 0 ? Array(9).fill('"lol"') : Array(9).fill(`*${levels[i - 1]}`);
      return `${name}: &${name} [${items.join(",")}]`;
    });
    const bomb = dir.write("bomb.yaml", `${lines.join("\n")}\n`);
    const validated = await runCli(["validate", bomb], { home: dir.path });
    expect(validated.code).toBe(1);
    expect(validated.stdout).toContain(`${bomb}  YAML: Excessive alias count`);
    const trained = await runCli(["train", "x", "--profile", bomb, "--home", `${dir.path}/home`], { home: dir.path });
    expect(trained.code).toBe(3);
    expect(trained.stderr).toContain(`${bomb}  YAML: Excessive alias count`);
  }, 30_000);

  test("profiles/schema.json is generated from the valibot schema and up to date", async () => {
    expect(await Bun.file(schemaFile).text()).toBe(profileJsonSchema());
  });
});
