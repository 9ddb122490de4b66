import { gateVerdict } from "../../deploy/gate-verdict.ts";
import { EdgetrainError } from "../../errors.ts";
import { silentLogger } from "../../log/logger.ts";
import { warmCache } from "../../serving/cache-warm.ts";
import { createServing } from "../../serving/serving.ts";
import { openState } from "../../state/database.ts";
import { ModelStore } from "../../store/model-store.ts";
import type { Logger } from "../../plugin-api.ts";
import type { Command, CommandIo, ParsedArgs } from "../command.ts";
import { askDaemon, daemonClient, daemonRuns } from "../daemon-client.ts";
import { homeOptions, loadHomeProfile, resolveHomeProfile } from "../home.ts";
import { writeAnswer, writeJson } from "../json-answer.ts";
import { metricsText, writeTable } from "../table.ts";
import { addModel, modelsAddOptions } from "./models-add.ts";

/** A one-shot command's logger: only what the user must know (a repaired file, CUDA missing) reaches stderr. */
function warningsOnStderr(io: CommandIo): Logger {
  const logger: Logger = { ...silentLogger, warn: (message) => void io.stderr.write(`warning: ${message}\n`), child: () => logger };
  return logger;
}

/** The home's model store, read directly when no daemon runs (reading never needs one). */
function withStore<T>({ loaded, paths }: ReturnType<typeof loadHomeProfile>, io: CommandIo, read: (store: ModelStore) => T): T {
  const state = openState(paths.state);
  try {
    return read(new ModelStore(paths.models, state.db, loaded.profile?.models.keep_versions ?? 3, { emit() {} }, warningsOnStderr(io)));
  } finally {
    state.close();
  }
}

/**
 * Without a daemon: the home's serving parts (store, sessions, cache) on their own, so that activation
 * and rollback make the same checks (sha256, load, health rows) the daemon makes. Closed after `act`.
 */
async function withServing<T>(args: ParsedArgs, io: CommandIo, act: (serving: Awaited<ReturnType<typeof createServing>>) => Promise<T>): Promise<T> {
  const resolved = await resolveHomeProfile(args, io);
  const state = openState(resolved.paths.state);
  const serving = await createServing({ profile: resolved.profile, paths: resolved.paths, registry: resolved.registry, state, logger: warningsOnStderr(io), events: { emit() {} }, busy: () => false });
  try {
    return await act(serving);
  } finally {
    await serving.pool.close();
    state.close();
  }
}

function modelName(args: ParsedArgs, command: string): string {
  const [name] = args.positionals;
  if (!name) throw new EdgetrainError("usage", `edgetrain ${command}: name the model (edgetrain models lists them)`);
  return name;
}

export const modelsCommand: Command = {
  name: "models",
  summary: "list models; models add NAME FILE imports one from any framework (.onnx, .pkl, .pt, .keras)",
  description:
    "Lists the models in the home's store: active version, versions kept, job, key and latest metrics. " +
    "Works with or without a running daemon.\n" +
    "models add NAME FILE.onnx stores an ONNX file (torch.onnx.export, skl2onnx, …) as the model's next version: " +
    "it is checked (decodes, loads in this ONNX Runtime, answers its health rows), a scikit-learn ZipMap output is " +
    "removed, and with --activate it goes through the deploy steps (gate, activate). Through the daemon when one " +
    "runs, else on the store directly.\n" +
    "A file of another framework is first converted to ONNX on this machine by the converter its extension names " +
    "(scikit-learn .pkl/.joblib forests, PyTorch .pt, Keras .keras with tf2onnx; edgetrain plugins lists them), " +
    "with the framework's own Python: --converter picks one, --example-input gives a PyTorch module's input shape.",
  arguments: [
    { name: "action", optional: true, choices: ["add"], description: "add: import a model file" },
    { name: "name", optional: true, description: "models add: the model to add a version to" },
    { name: "file", optional: true, description: "models add: the ONNX file, or a .pkl, .pt, .keras… to convert" },
  ],
  options: {
    json: { type: "boolean", description: "print a JSON array of {model, active, versions, latest, job, key, metrics, activated_at}" },
    ...modelsAddOptions,
    ...homeOptions,
  },
  examples: [
    "edgetrain models",
    "edgetrain models --json --home /data/edgetrain",
    "edgetrain models add net model.onnx --task regression --activate",
    "edgetrain models add iris forest.onnx --features-from iris.csv --activate",
    "edgetrain models add iris forest.pkl --features-from iris.csv --activate",
    "edgetrain models add vision resnet.pt --example-input 1,3,224,224",
  ],
  async run(args, io) {
    if (args.positionals[0] === "add") return addModel(args, io, warningsOnStderr(io));
    const [action] = args.positionals;
    if (action !== undefined) throw new EdgetrainError("usage", `edgetrain models: expected add or nothing, got "${action}"`);
    const home = loadHomeProfile(args, io);
    const listed = daemonRuns(home.paths.home) ? (await askDaemon(args, io, (api) => api.v1.models.get())).models : withStore(home, io, (store) => store.list());
    // In natural order already: the store lists them so, for the daemon's API too.
    const models = listed;
    if (args.values.json) return writeJson(io, models), 0;
    const none = "no models yet: a job's first successful run adds one, or edgetrain models add NAME FILE.onnx\n";
    if (models.length === 0) return io.stdout.write(none), 0;
    writeTable(io.stdout, [["MODEL", "ACTIVE", "VERSIONS", "JOB", "KEY", "METRICS"], ...models.map((m) => [m.model, m.active === undefined ? "-" : String(m.active), String(m.versions), m.job ?? "-", m.key ?? "-", metricsText(m.metrics)])]);
    return 0;
  },
};

export const modelCommand: Command = {
  name: "model",
  summary: "one model's versions with metrics, gate results and status",
  description:
    "Lists the versions of one model: status, creation time, the job and run that made it (import for an imported " +
    "one), the version it started from (warm: continued from its weights), metrics, and the gate's verdict or why " +
    "it was rolled back. Several jobs may write versions of one model (a job's `model` setting).",
  arguments: [{ name: "name", description: "the model (edgetrain models lists them)" }],
  options: { json: { type: "boolean", description: "print {model, versions: [...]} as JSON" }, ...homeOptions },
  examples: ["edgetrain model activity-player_7", "edgetrain model activity-player_7 --json"],
  async run(args, io) {
    const name = modelName(args, "model");
    const home = loadHomeProfile(args, io);
    const versions = daemonRuns(home.paths.home)
      ? (await askDaemon(args, io, (api) => api.v1.models({ name: encodeURIComponent(name) }).get())).versions
      : withStore(home, io, (store) => store.requireVersions(name));
    if (args.values.json) return writeJson(io, { model: name, versions }), 0;
    writeTable(io.stdout, [
      ["VERSION", "STATUS", "CREATED", "JOB", "RUN", "PARENT", "METRICS", "GATE / NOTE"],
      ...versions.map((v) => {
        const parent = v.parent === undefined ? "-" : `${v.parent}${v.warm_started ? " warm" : ""}`;
        const created = v.created_at.replace("T", " ").slice(0, 19);
        const note = [gateVerdict(v.gate), v.note].filter(Boolean).join("; ");
        const job = v.job ?? v.source ?? "-";
        return [String(v.version), v.status, created, job, v.run ?? "-", parent, metricsText(v.metrics), note];
      }),
    ]);
    return 0;
  },
};

export const activateCommand: Command = {
  name: "activate",
  summary: "make a model version serve (loaded and health-checked first)",
  description: "Loads the version, checks it and makes it serve: through the daemon when one runs (requests never fail or wait during the switch), else on the store directly.",
  arguments: [
    { name: "name", description: "the model (edgetrain models lists them)" },
    { name: "version", description: "the version number (edgetrain model NAME lists them)" },
  ],
  options: homeOptions,
  examples: ["edgetrain activate activity-player_7 3"],
  async run(args, io) {
    const name = modelName(args, "activate");
    const version = Number(args.positionals[1]);
    if (!Number.isInteger(version) || version < 1) throw new EdgetrainError("usage", `edgetrain activate ${name} VERSION: expected a version number, got "${args.positionals[1] ?? ""}"`);
    const { paths } = loadHomeProfile(args, io);
    const active = daemonRuns(paths.home)
      ? (await askDaemon(args, io, (api) => api.v1.models({ name: encodeURIComponent(name) }).activate.post({ version }))).activated
      : await withServing(args, io, (serving) => serving.activator.activate(name, version, "edgetrain activate"));
    writeAnswer(io, args, { model: name, active: active.version }, `${name}: version ${active.version} serving\n`);
    return 0;
  },
};

export const rollbackCommand: Command = {
  name: "rollback",
  summary: "go back to the model version that served before",
  description: "Makes the version that served before the active one serve again, through the daemon when one runs, else on the store directly.",
  arguments: [{ name: "name", description: "the model (edgetrain models lists them)" }],
  options: homeOptions,
  examples: ["edgetrain rollback activity-player_7"],
  async run(args, io) {
    const name = modelName(args, "rollback");
    const { paths } = loadHomeProfile(args, io);
    const active = daemonRuns(paths.home)
      ? (await askDaemon(args, io, (api) => api.v1.models({ name: encodeURIComponent(name) }).rollback.post())).active
      : await withServing(args, io, (serving) => serving.activator.rollback(name, "edgetrain rollback"));
    writeAnswer(io, args, { model: name, active: active.version }, `${name}: rolled back; version ${active.version} serving\n`);
    return 0;
  },
};

export const cacheCommand: Command = {
  name: "cache",
  summary: "prediction cache: stats, clear (all, or one model), or warm (pregenerate predictions)",
  description:
    "Shows the prediction cache's entries, hits and misses, clears it, or warms it: computes the pregenerated predictions (cache.pregenerate: the file's inputs and the most requested ones) of one model or of all that serve, as a scheduled run and an activation do. Through the daemon when one runs; else on the disk cache directly (the memory cache lives only in the daemon, so without one it is empty, and only the pregenerate file is known).",
  arguments: [
    { name: "action", choices: ["stats", "clear", "warm"], description: "stats, clear or warm" },
    { name: "model", optional: true, description: "clear or warm only this model" },
  ],
  options: {
    json: { type: "boolean", description: "print the stats, or what was cleared or warmed, as JSON" },
    ...homeOptions,
  },
  examples: ["edgetrain cache stats", "edgetrain cache clear activity-player_7", "edgetrain cache warm"],
  async run(args, io) {
    const [action, model] = args.positionals;
    if (action !== "stats" && action !== "clear" && action !== "warm") {
      throw new EdgetrainError("usage", `edgetrain cache: expected stats, clear or warm, got "${action ?? ""}"`);
    }
    const { paths } = loadHomeProfile(args, io);
    const daemon = daemonRuns(paths.home) ? daemonClient(args, io) : undefined;
    if (action === "stats") {
      type Stats = { type: string; entries: number; hits: number; misses: number; hit_rate: number };
      const stats = daemon
        ? await daemon.answer(daemon.api.v1.cache.get())
        : await withServing(args, io, async (serving): Promise<Stats> => ({ ...serving.service.cacheStats(), type: serving.cacheType }));
      const counts = daemon ? `, ${stats.hits} hits, ${stats.misses} misses, hit rate ${(stats.hit_rate * 100).toFixed(1)} %` : " on disk (no daemon runs)";
      writeAnswer(io, args, { ...stats, daemon: daemon !== undefined }, `${stats.type} cache: ${stats.entries} entries${counts}\n`);
      return 0;
    }
    if (action === "warm") {
      const { warmed } = daemon
        ? await daemon.answer(daemon.api.v1.cache.warm.post(undefined, { query: { model } }))
        : await withServing(args, io, async (serving) => {
            const answer = { warmed: await warmCache(serving.store, serving.service, model) };
            await serving.cache.flush?.();
            return answer;
          });
      const lines = warmed.map((entry) => `${entry.model}: ${entry.entries} pregenerated\n`).join("");
      writeAnswer(io, args, { warmed, daemon: daemon !== undefined }, lines || "no model serves: nothing to warm\n");
      return 0;
    }
    if (daemon) await daemon.answer(daemon.api.v1.cache.delete(undefined, { query: { model } }));
    else
      await withServing(args, io, async (serving) => {
        serving.service.clearCache(model);
        await serving.cache.flush?.();
      });
    writeAnswer(io, args, { cleared: model ?? "all", daemon: daemon !== undefined }, `cleared ${model ? `the cache of ${model}` : "the whole cache"}\n`);
    return 0;
  },
};
