import { mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import * as v from "valibot";
import randomForest from "../../plugins/strategies/random-forest/index.ts";
import { deepMerge } from "../../runtime/config/merge.ts";
import { resolvePaths } from "../../runtime/config/paths.ts";
import { type Profile, ProfileSchema } from "../../runtime/config/schema.ts";
import { readCsvTable } from "../../runtime/data/csv-table.ts";
import { tableOf } from "../../runtime/data/load-training-data.ts";
import { writeAthletes } from "../../runtime/demo/athletes.ts";
import { type BusEvent, EventBus } from "../../runtime/events/bus.ts";
import { silentLogger } from "../../runtime/log/logger.ts";
import type { Clock, DataTable, Logger } from "../../runtime/plugin-api.ts";
import { loadPlugins } from "../../runtime/plugins/host.ts";
import { createServing } from "../../runtime/serving/serving.ts";
import { openState } from "../../runtime/state/database.ts";
import { startDaemonProcess } from "../helpers.ts";
import { trainInProcess } from "../strategies/harness.ts";

export const ATHLETES = { players: 2, sessions: 5, rows: 900, seed: 11 };

/** A real daemon process on ATHLETES' sessions under `home`, run with `profileYaml`; with the API token it wrote. */
export async function startAthleteDaemon(home: string, profileYaml: string, env: Record<string, string> = {}) {
  writeAthletes(join(home, "data/athletes"), ATHLETES);
  const profile = join(home, "profile.yaml");
  writeFileSync(profile, profileYaml);
  const daemon = await startDaemonProcess(home, ["--home", home, "--headless", "--profile", profile], env);
  return { daemon, token: readFileSync(join(home, "api.token"), "utf8").trim() };
}

/** Real ONNX forests on synthetic sessions: a good one, a newer good one, and a weak one (one stump). */
export async function trainedModels(dir: string) {
  const data = join(dir, "athletes");
  writeAthletes(data, ATHLETES);
  const files = (player: number) =>
    readdirSync(join(data, `player_${player}`))
      .sort((a, b) => Number(/TR(\d+)/.exec(a)![1]) - Number(/TR(\d+)/.exec(b)![1]))
      .map((name) => join(data, `player_${player}`, name));
  const sessions = files(1);
  const train = async (name: string, options: Record<string, unknown>, trainFiles: string[]) => {
    const runDir = join(dir, "runs", name);
    mkdirSync(runDir, { recursive: true });
    const run = await trainInProcess(
      randomForest,
      { seed: 1, ...options },
      { train: trainFiles, test: [sessions[4]!] },
      runDir,
    );
    if (!run.result) throw run.error;
    return run.result;
  };
  const good = await train("good", { n_estimators: 15, max_depth: 6 }, sessions.slice(1, 3));
  const newer = await train("newer", { n_estimators: 15, max_depth: 6 }, sessions.slice(2, 4));
  const weak = await train("weak", { n_estimators: 1, max_depth: 1, bootstrap: false }, sessions.slice(0, 1));
  const heldOutCsv = await readCsvTable([sessions[4]!], { label: "label", onBadCell: "fail" });
  const heldOut: DataTable = tableOf(heldOutCsv);
  return { good, newer, weak, heldOut, sessions };
}

export function testProfile(home: string, extra: Record<string, unknown> = {}): Profile {
  return v.parse(ProfileSchema, deepMerge({ paths: { home } }, extra as never));
}

/** The daemon's serving stack in-process, on a real state database and ONNX Runtime. */
export async function servingStack(
  home: string,
  extra: Record<string, unknown> = {},
  clock?: Clock,
  busy: (model: string) => boolean = () => false,
  logger: Logger = silentLogger,
) {
  const profile = testProfile(home, extra);
  const paths = resolvePaths(profile, home);
  const state = openState(paths.state);
  const registry = await loadPlugins(undefined);
  const bus = new EventBus();
  const events: BusEvent[] = [];
  bus.subscribe((event) => events.push(event));
  const serving = await createServing({ profile, paths, registry, state, logger, events: bus, clock, busy });
  return {
    ...serving,
    profile,
    paths,
    state,
    registry,
    bus,
    events,
    close: async () => {
      await serving.cache.flush?.();
      await serving.pool.close();
      state.close();
    },
  };
}

export const metadataOf = (
  result: { metrics: Record<string, number>; metadata?: Record<string, unknown> },
  job = "activity",
  key = "player_1",
) => ({
  job,
  key,
  strategy: "random-forest",
  metrics: result.metrics,
  task: "classification" as const,
  feature_names: result.metadata!.feature_names as string[],
  classes: result.metadata!.classes as string[],
});
