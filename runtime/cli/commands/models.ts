import { gateVerdict } from "../../deploy/gate-verdict.ts";
import { EdgetrainError } from "../../errors.ts";
import type { Command, ParsedArgs } from "../command.ts";
import { askDaemon, daemonRuns } from "../daemon-client.ts";
import { homeOptions, loadValidHomeProfile } from "../home.ts";
import { holdingHome, stderrLine } from "../home-turn.ts";
import { writeAnswer, writeJson } from "../json-answer.ts";
import { metricsText, writeTable } from "../table.ts";
import { warningsOnStderr, withServing, withStore } from "../without-daemon.ts";
import { addModel, modelsAddOptions } from "./models-add.ts";

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
    json: {
      type: "boolean",
      description: "print a JSON array of {model, active, versions, latest, job, key, metrics, activated_at}",
    },
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
    if (action !== undefined)
      throw new EdgetrainError("usage", `edgetrain models: expected add or nothing, got "${action}"`);
    const addOnly = Object.keys(modelsAddOptions).filter(
      (name) => args.values[name] !== undefined && args.values[name] !== false,
    );
    if (addOnly.length > 0)
      throw new EdgetrainError("usage", `--${addOnly[0]} applies to edgetrain models add, not to the list`, {
        hint: "edgetrain models add NAME FILE …",
      });
    const home = loadValidHomeProfile(args, io);
    const listed = daemonRuns(home.paths.home)
      ? (await askDaemon(args, io, (api) => api.v1.models.get())).models
      : withStore(home, io, (store) => store.list());
    // In natural order already: the store lists them so, for the daemon's API too.
    const models = listed;
    if (args.values.json) return (writeJson(io, models), 0);
    const none = "no models yet: a job's first successful run adds one, or edgetrain models add NAME FILE.onnx\n";
    if (models.length === 0) return (io.stdout.write(none), 0);
    writeTable(io.stdout, [
      ["MODEL", "ACTIVE", "VERSIONS", "JOB", "KEY", "METRICS"],
      ...models.map((m) => [
        m.model,
        m.active === undefined ? "-" : String(m.active),
        String(m.versions),
        m.job ?? "-",
        m.key ?? "-",
        metricsText(m.metrics),
      ]),
    ]);
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
    const home = loadValidHomeProfile(args, io);
    const versions = daemonRuns(home.paths.home)
      ? (await askDaemon(args, io, (api) => api.v1.models({ name: encodeURIComponent(name) }).get())).versions
      : withStore(home, io, (store) => store.requireVersions(name));
    if (args.values.json) return (writeJson(io, { model: name, versions }), 0);
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
  description:
    "Loads the version, checks it and makes it serve: through the daemon when one runs (requests never fail or wait " +
    "during the switch), else on the store directly.",
  arguments: [
    { name: "name", description: "the model (edgetrain models lists them)" },
    { name: "version", description: "the version number (edgetrain model NAME lists them)" },
  ],
  options: homeOptions,
  examples: ["edgetrain activate activity-player_7 3"],
  async run(args, io) {
    const name = modelName(args, "activate");
    const version = Number(args.positionals[1]);
    if (!Number.isInteger(version) || version < 1)
      throw new EdgetrainError(
        "usage",
        `edgetrain activate ${name} VERSION: expected a version number, got "${args.positionals[1] ?? ""}"`,
      );
    const { paths } = loadValidHomeProfile(args, io);
    const active = daemonRuns(paths.home)
      ? (
          await askDaemon(args, io, (api) =>
            api.v1.models({ name: encodeURIComponent(name) }).activate.post({ version }),
          )
        ).activated
      : await holdingHome(paths.home, stderrLine(io), () =>
          withServing(args, io, (serving) => serving.activator.activate(name, version, "edgetrain activate")),
        );
    writeAnswer(io, args, { model: name, active: active.version }, `${name}: version ${active.version} serving\n`);
    return 0;
  },
};

export const rollbackCommand: Command = {
  name: "rollback",
  summary: "go back to the model version that served before",
  description:
    "Makes the version that served before the active one serve again, through the daemon when one runs, else on the " +
    "store directly.",
  arguments: [{ name: "name", description: "the model (edgetrain models lists them)" }],
  options: homeOptions,
  examples: ["edgetrain rollback activity-player_7"],
  async run(args, io) {
    const name = modelName(args, "rollback");
    const { paths } = loadValidHomeProfile(args, io);
    const active = daemonRuns(paths.home)
      ? (await askDaemon(args, io, (api) => api.v1.models({ name: encodeURIComponent(name) }).rollback.post())).active
      : await holdingHome(paths.home, stderrLine(io), () =>
          withServing(args, io, (serving) => serving.activator.rollback(name, "edgetrain rollback")),
        );
    writeAnswer(
      io,
      args,
      { model: name, active: active.version },
      `${name}: rolled back; version ${active.version} serving\n`,
    );
    return 0;
  },
};
