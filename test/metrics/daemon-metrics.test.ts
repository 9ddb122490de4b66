import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { repoRoot, type TempDir, tempDir, waitUntil } from "../helpers.ts";
import { startAthleteDaemon } from "../serving/fixture.ts";

let dir: TempDir;
let daemon: Awaited<ReturnType<typeof startAthleteDaemon>>["daemon"];
/** One scrape after a run, a rollback and predictions that were answered and refused. */
let scrape = "";

/**
 * A host whose sensors the test decides: a sysfs GPU load node (25 %), memory 75 % used, and no thermal
 * zone at all.
 */
function fakeHost(root: string): void {
  mkdirSync(join(root, "proc"), { recursive: true });
  writeFileSync(join(root, "proc/meminfo"), "MemTotal: 1000000 kB\nMemFree: 100000 kB\nMemAvailable: 250000 kB\n");
  writeFileSync(join(root, "proc/stat"), "cpu  100 0 100 800 0 0 0 0 0 0\n");
  writeFileSync(join(root, "proc/loadavg"), "0.50 0.40 0.30 1/100 1234\n");
  mkdirSync(join(root, "sys/devices/gpu.0"), { recursive: true });
  writeFileSync(join(root, "sys/devices/gpu.0/load"), "250\n");
}

const sample = (name: string) =>
  scrape.split("\n").find((line) => line.startsWith(`${name} `) || line.startsWith(`${name}{`));

beforeAll(async () => {
  dir = tempDir();
  fakeHost(join(dir.path, "host"));
  let token: string;
  ({ daemon, token } = await startAthleteDaemon(
    dir.path,
    `extends: base
governor: { max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100, max_temperature: 80 }
jobs:
  activity:
    strategy: random-forest
    options: { n_estimators: 5, max_depth: 4 }
    data: { source: sessions, path: athletes, sessions_to_use: 3, debounce: 0 }
    triggers: [{ type: manual }]
`,
    { EDGETRAIN_HOST_ROOT: join(dir.path, "host") },
  ));
  const post = (path: string, body: unknown) =>
    fetch(daemon.url + path, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  // Two runs of player_1 (two versions, then a rollback), one of player_2.
  expect((await post("/v1/jobs/activity/run", {})).status).toBe(202);
  const versions = async (model: string) =>
    ((await (await fetch(`${daemon.url}/v1/models/${model}`)).json()) as { versions?: Array<{ status: string }> })
      .versions ?? [];
  await waitUntil(
    async () =>
      (await versions("activity-player_1")).some((v) => v.status === "active") &&
      (await versions("activity-player_2")).some((v) => v.status === "active"),
    60_000,
  );
  expect((await post("/v1/jobs/activity/run", { key: "player_1" })).status).toBe(202);
  await waitUntil(async () => {
    const list = await versions("activity-player_1");
    return list.length === 2 && list.every((version) => version.status !== "candidate");
  }, 60_000);
  await waitUntil(
    async () => !/edgetrain_runs_running [1-9]/.test(await (await fetch(`${daemon.url}/metrics`)).text()),
    30_000,
  );
  await post("/v1/models/activity-player_1/activate", { version: 2 });
  expect((await post("/v1/models/activity-player_1/rollback", {})).status).toBe(200);
  expect(
    (await post("/v1/predict/activity-player_1", { inputs: [Array.from({ length: 16 }, (_, i) => i)] })).status,
  ).toBe(200);
  expect((await post("/v1/predict/activity-player_1", { inputs: [[1, 2]] })).status).toBe(400);
  expect((await post("/v1/predict/no-such-model", { inputs: [[1]] })).status).toBe(404);
  // A governor sample has been taken since the start.
  await waitUntil(
    async () => /\nedgetrain_memory_used_ratio /.test(await (await fetch(`${daemon.url}/metrics`)).text()),
    10_000,
  );
  scrape = await (await fetch(`${daemon.url}/metrics`)).text();
}, 150_000);

afterAll(async () => {
  daemon?.proc.kill("SIGTERM");
  await daemon?.proc.exited;
  await dir[Symbol.asyncDispose]();
});

describe("/metrics of a running daemon", () => {
  test("process metrics and build info, as every Prometheus client has them", () => {
    expect(sample("process_resident_memory_bytes")).toMatch(/ [1-9]\d*$/);
    expect(sample("process_cpu_seconds_total")).toBeDefined();
    expect(sample("process_start_time_seconds")).toBeDefined();
    expect(sample("nodejs_eventloop_lag_seconds")).toBeDefined();
    expect(sample("edgetrain_build_info")).toMatch(
      /^edgetrain_build_info\{version="[^"]+",target="[^"]+",profile="profile"\} 1$/,
    );
    // Zeros that JavaScriptCore has no counterpart for, and gauges named like counters, are left out.
    expect(scrape).not.toContain("nodejs_heap_space_size");
    expect(scrape).not.toContain("nodejs_active_handles");
  });

  test("ratios are 0-1 and named _ratio; units are in the names; a sensor the machine lacks has no sample", () => {
    expect(scrape).not.toContain("_percent");
    expect(sample("edgetrain_memory_used_ratio")).toBe("edgetrain_memory_used_ratio 0.75");
    expect(sample("edgetrain_gpu_utilization_ratio")).toBe("edgetrain_gpu_utilization_ratio 0.25");
    expect(sample("edgetrain_load1")).toBe("edgetrain_load1 0.5");
    expect(sample("edgetrain_governor_max_temperature_celsius")).toBe("edgetrain_governor_max_temperature_celsius 80");
    // No thermal zone: the family is declared, with no sample rather than a 0 °C.
    expect(scrape).toContain("# TYPE edgetrain_temperature_celsius gauge");
    expect(sample("edgetrain_temperature_celsius")).toBeUndefined();
  });

  test("the disk of the home in bytes", () => {
    const value = (name: string) => Number(sample(name)?.split(" ")[1]);
    expect(value("edgetrain_home_disk_free_bytes")).toBeGreaterThan(0);
    expect(value("edgetrain_home_disk_used_bytes")).toBeGreaterThan(0);
    expect(value("edgetrain_home_disk_used_bytes") + value("edgetrain_home_disk_free_bytes")).toBeLessThanOrEqual(
      value("edgetrain_home_disk_size_bytes"),
    );
    expect(sample("edgetrain_home_disk_full")).toBe("edgetrain_home_disk_full 0");
  });

  test("runs ended as counters and their durations as a histogram; models' versions, metrics and rollbacks", () => {
    expect(scrape).toContain('\nedgetrain_runs_total{job_name="activity",status="succeeded"} 3\n');
    expect(scrape).toContain('\nedgetrain_runs_total{job_name="activity",status="failed"} 0\n');
    expect(scrape).toContain('\nedgetrain_run_duration_seconds_count{job_name="activity",status="succeeded"} 3\n');
    expect(scrape).toContain('\nedgetrain_model_active_version{model="activity-player_1"} 1\n');
    expect(scrape).toMatch(/\nedgetrain_model_metric\{model="activity-player_2",metric="accuracy"\} 0\.\d+\n/);
    expect(scrape).toContain('\nedgetrain_model_rollbacks_total{model="activity-player_1"} 1\n');
    expect(scrape).toContain('\nedgetrain_model_rollbacks_total{model="activity-player_2"} 0\n');
  });

  test("predictions by model and outcome, and their latency by model", () => {
    expect(scrape).toMatch(/\nedgetrain_predictions_total\{model="activity-player_1",code="ok"\} [1-9]\d*\n/);
    expect(scrape).toContain('\nedgetrain_predictions_total{model="activity-player_1",code="bad_input"} 1\n');
    expect(scrape).toContain('\nedgetrain_predictions_total{model="",code="not_found"} 1\n');
    expect(scrape).toMatch(/\nedgetrain_prediction_duration_seconds_count\{model="activity-player_1"\} [1-9]\d*\n/);
  });

  test("promtool check metrics passes", () => {
    const promtool = Bun.which("promtool");
    if (!promtool && process.env.CI) throw new Error("promtool is missing: .ci/run installs the prometheus package");
    if (!promtool) return console.warn("skipped: promtool is not installed (Debian's prometheus package brings it)");
    const check = Bun.spawnSync([promtool, "check", "metrics"], { stdin: new TextEncoder().encode(scrape) });
    expect([check.exitCode, check.stdout.toString() + check.stderr.toString()]).toEqual([0, ""]);
  });
});

describe("the metrics documentation", () => {
  test("docs/operations.md describes every edgetrain_ metric of the scrape, and only those", () => {
    const documented = new Set(readFileSync(join(repoRoot, "docs/operations.md"), "utf8").match(/\bedgetrain_\w+/g));
    const families = new Set([...scrape.matchAll(/^# TYPE (edgetrain_\w+) /gm)].map((match) => match[1]!));
    expect({ undocumented: [...families].filter((name) => !documented.has(name)) }).toEqual({ undocumented: [] });
    expect({ unknown: [...documented].filter((name) => !families.has(name)) }).toEqual({ unknown: [] });
  });
});

/** Metric names a scrape exposes: each family, a histogram's series too, declared even while it has no sample. */
function exposedNames(text: string): Set<string> {
  const names = new Set<string>();
  for (const line of text.split("\n")) {
    const declared = /^# TYPE (\S+) (\S+)$/.exec(line);
    if (declared) {
      names.add(declared[1]!);
      if (declared[2] === "histogram" || declared[2] === "summary")
        for (const suffix of ["_bucket", "_sum", "_count"]) names.add(declared[1]! + suffix);
    } else if (line && !line.startsWith("#")) names.add(/^[^{ ]+/.exec(line)![0]);
  }
  return names;
}

/** PromQL's functions, aggregations and keywords that the dashboard and rules use; any other word is a metric. */
const PROMQL_WORDS = new Set([
  "sum",
  "rate",
  "increase",
  "histogram_quantile",
  "predict_linear",
  "and",
  "or",
  "unless",
  "group_left",
  "group_right",
  "bool",
  "humanizeDuration",
]);

/** The metric names in a PromQL expression: strings, label matchers, ranges and grouping clauses taken out first. */
function metricNamesOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, "")
    .replace(/\{[^}]*\}/g, "")
    .replace(/\[[^\]]*\]/g, "")
    .replace(/\b(by|without|on|ignoring)\s*\([^)]*\)/g, "");
  return [...new Set(bare.match(/\b[a-zA-Z_:][a-zA-Z0-9_:]*\b/g) ?? [])].filter((word) => !PROMQL_WORDS.has(word));
}

describe("the Grafana dashboard and the Prometheus rules", () => {
  type Panel = {
    type: string;
    title: string;
    datasource?: { uid: string };
    targets?: Array<{ expr: string }>;
    panels?: Panel[];
  };
  const dashboard = JSON.parse(readFileSync(join(repoRoot, "deploy/grafana/edgetrain.json"), "utf8")) as {
    schemaVersion: number;
    panels: Panel[];
    templating: { list: Array<{ name: string; type: string; definition?: string }> };
  };
  const panels = dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
  const rules = (
    parse(readFileSync(join(repoRoot, "deploy/prometheus/alerts.yml"), "utf8")) as {
      groups: Array<{ rules: Array<{ alert: string; expr: string }> }>;
    }
  ).groups.flatMap((group) => group.rules);

  test("every metric the dashboard's queries and variables name is in a real scrape", () => {
    const exposed = exposedNames(scrape);
    // label_values(SELECTOR, LABEL): the selector names the metric.
    const variables = dashboard.templating.list
      .filter((v) => v.definition)
      .map((v) => [`$${v.name}`, v.definition!.replace(/^label_values\((.*),\s*\w+\)$/, "$1")]);
    const queries = [
      ...panels.flatMap((panel) => (panel.targets ?? []).map((target) => [panel.title, target.expr])),
      ...variables,
    ];
    expect(queries.length).toBeGreaterThan(20);
    const missing = queries.flatMap(([title, expr]) =>
      metricNamesOf(expr!)
        .filter((name) => !exposed.has(name))
        .map((name) => `${title}: ${name}`),
    );
    expect(missing).toEqual([]);
  });

  test("it has a row for each area, a Prometheus data source variable and a device variable", () => {
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(39);
    expect(panels.filter((panel) => panel.type === "row").map((panel) => panel.title)).toEqual([
      "Device",
      "Serving",
      "Cache",
      "Runs",
      "Models",
      "Governor",
    ]);
    expect(dashboard.templating.list.map((v) => [v.name, v.type])).toEqual(
      expect.arrayContaining([
        ["DS_PROMETHEUS", "datasource"],
        ["instance", "query"],
      ]),
    );
    expect(
      panels
        .filter((panel) => panel.type !== "row" && panel.datasource?.uid !== "${DS_PROMETHEUS}")
        .map((panel) => panel.title),
    ).toEqual([]);
  });

  test("every metric the alert rules name is in a real scrape", () => {
    const exposed = exposedNames(scrape);
    expect(rules.map((rule) => rule.alert).sort()).toEqual([
      "EdgetrainDeviceHot",
      "EdgetrainHomeDiskFilling",
      "EdgetrainHomeDiskFull",
      "EdgetrainModelRolledBack",
      "EdgetrainPredictionLatencyHigh",
      "EdgetrainRunsFailing",
      "EdgetrainTrainingStalled",
    ]);
    const missing = rules.flatMap((rule) =>
      metricNamesOf(rule.expr)
        .filter((name) => !exposed.has(name))
        .map((name) => `${rule.alert}: ${name}`),
    );
    expect(missing).toEqual([]);
  });

  test("promtool check rules and its unit tests pass", () => {
    const promtool = Bun.which("promtool");
    if (!promtool && process.env.CI) throw new Error("promtool is missing: .ci/run installs the prometheus package");
    if (!promtool) return console.warn("skipped: promtool is not installed (Debian's prometheus package brings it)");
    const folder = join(repoRoot, "deploy/prometheus");
    for (const args of [
      ["check", "rules", "alerts.yml"],
      ["test", "rules", "alerts.test.yml"],
    ]) {
      const run = Bun.spawnSync([promtool, ...args], { cwd: folder });
      expect([args.join(" "), run.exitCode, run.stderr.toString()]).toEqual([args.join(" "), 0, ""]);
    }
  });
});
