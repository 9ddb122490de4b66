import { readFileSync } from "node:fs";
import { basename, resolve } from "node:path";
import type { ModelImported } from "../../api/contract.ts";
import { Deployer } from "../../deploy/deployer.ts";
import { type Converted, converterFor, convertModel } from "../../deploy/model-conversion.ts";
import { type ImportRequest, importModel } from "../../deploy/model-import.ts";
import { EdgetrainError, messageOf } from "../../errors.ts";
import type { Logger } from "../../plugin-api.ts";
import { checkModelName } from "../../store/model-name.ts";
import { type CommandIo, type OptionSpec, type ParsedArgs, stringFlag } from "../command.ts";
import { daemonAddress, daemonError, daemonRuns, homeToken } from "../daemon-client.ts";
import { loadValidHomeProfile, resolveHomeProfile } from "../home.ts";
import { holdingHome, stderrLine } from "../home-turn.ts";
import { writeAnswer } from "../json-answer.ts";
import { progressBar } from "../progress-bar.ts";
import { abortOnStopSignals } from "../stop-signals.ts";
import { withServing } from "../without-daemon.ts";

export const modelsAddOptions: Record<string, OptionSpec> = {
  features: {
    type: "string",
    value: "A,B,…",
    description: "models add: the feature names, in the model's column order",
  },
  "features-from": {
    type: "string",
    value: "CSV",
    description:
      "models add: take the features from this CSV's header; with a label column its rows are held out for the gate",
  },
  label: { type: "string", value: "COLUMN", description: "models add: the label column of --features-from (label)" },
  classes: {
    type: "string",
    value: "A,B,…",
    description: "models add: the class names, in the order of the probability columns",
  },
  task: {
    type: "string",
    value: "TASK",
    description: "models add: classification or regression (else the raw named outputs are served)",
  },
  activate: { type: "boolean", description: "models add: pass it through the deploy steps (gate, activate) at once" },
  converter: {
    type: "string",
    value: "NAME",
    description: "models add: convert the file with this converter, whatever its extension (see edgetrain plugins)",
  },
  "example-input": {
    type: "string",
    value: "SHAPE",
    description: "models add: the shape of one input (1,3,224,224) for a PyTorch module; the batch stays dynamic",
  },
};

/**
 * `edgetrain models add NAME FILE.onnx`: through the daemon when one runs on the home (it serves the new
 * version without a restart), else on the store directly, with the same checks and deploy steps.
 */
export async function addModel(args: ParsedArgs, io: CommandIo, logger: Logger): Promise<number> {
  const [, model, file] = args.positionals;
  if (!model || !file)
    throw new EdgetrainError("usage", "edgetrain models add NAME FILE: name the model and its file (.onnx, .pkl…)");
  const {
    features,
    "features-from": featuresFrom,
    label,
    classes,
    task,
    activate,
  } = args.values as Record<string, string | boolean | undefined>;
  if (features !== undefined && featuresFrom !== undefined)
    throw new EdgetrainError("usage", "edgetrain models add: give --features or --features-from, not both");
  if (task !== undefined && task !== "classification" && task !== "regression")
    throw new EdgetrainError("usage", `--task: classification or regression, not "${String(task)}"`);
  const converted = await convertFile(args, io, model, file, logger);
  let bytes: Uint8Array;
  try {
    bytes = converted?.bytes ?? readFileSync(file);
  } catch (error) {
    throw new EdgetrainError("data_invalid", `${file} cannot be read: ${messageOf(error)}`, { details: { file } });
  }
  const request: ImportRequest = {
    model,
    file,
    bytes,
    features:
      typeof features === "string"
        ? features
            .split(",")
            .map((f) => f.trim())
            .filter(Boolean)
        : // Named features in a CSV are read by name, so the model's own order holds whatever the CSV's is.
          converted?.featureNames,
    featuresFrom: typeof featuresFrom === "string" ? resolve(featuresFrom) : undefined,
    label: typeof label === "string" ? label : undefined,
    classes:
      typeof classes === "string"
        ? classes
            .split(",")
            .map((c) => c.trim())
            .filter(Boolean)
        : converted?.classes,
    task: (task as ImportRequest["task"]) ?? converted?.task,
    activate: activate === true,
    ...(converted
      ? { converted: { converter: converted.converter, sha256: converted.sha256, description: converted.description } }
      : {}),
  };
  const { paths } = loadValidHomeProfile(args, io);
  const imported = daemonRuns(paths.home)
    ? await throughDaemon(args, io, request)
    : await holdingHome(paths.home, stderrLine(io), () => onStore(args, io, request, logger));
  const { version, changes, deployment } = imported;
  const lines = [
    `${model}: version ${version.version} imported from ${file} (sha256 ` +
      `${version.imported?.sha256.slice(0, 12) ?? "?"})`,
  ];
  const { converter, conversion } = version.imported ?? {};
  if (converter) lines.push(`  converted by ${converter}: ${conversion}`);
  for (const change of changes) lines.push(`  changed: ${change}`);
  if (deployment)
    lines.push(
      deployment.status === "activated"
        ? `  serving (${deployment.steps.map((s) => s.step).join(", ")})`
        : `  not serving: ${deployment.message ?? deployment.status}`,
    );
  else lines.push(`  stored as a candidate; edgetrain activate ${model} ${version.version} makes it serve`);
  writeAnswer(io, args, imported, `${lines.join("\n")}\n`);
  return deployment && deployment.status !== "activated" ? 1 : 0;
}

/**
 * A file of another framework, made ONNX here with the user's own tools (the converter its extension
 * names, or --converter), before it goes to the daemon or the store; undefined for an ONNX file.
 */
async function convertFile(
  args: ParsedArgs,
  io: CommandIo,
  model: string,
  file: string,
  logger: Logger,
): Promise<Converted | undefined> {
  const chosen = stringFlag(args, "converter");
  const exampleInput = shapeOf(stringFlag(args, "example-input"));
  if (!chosen && file.toLowerCase().endsWith(".onnx")) return undefined;
  checkModelName(model);
  const { profile, paths, registry } = await resolveHomeProfile(args, io);
  const converter = converterFor(registry, file, chosen);
  if (!converter) return undefined;
  const bar = progressBar(io.stderr, `converting ${basename(file)}`);
  const abort = new AbortController();
  // The converter's child runs in a process group of its own, which a terminal's Ctrl-C does not reach.
  const stopListening = abortOnStopSignals(abort, (signal) => `interrupted (${signal})`);
  try {
    const parts = { profile, paths, registry, logger, progress: bar, signal: abort.signal };
    return await convertModel(parts, { model, file, converter: chosen, exampleInput }, converter);
  } finally {
    stopListening();
    bar.finish();
  }
}

function shapeOf(text: string | undefined): number[] | undefined {
  if (text === undefined) return undefined;
  const shape = text.split(",").map((size) => Number(size.trim()));
  if (shape.length === 0 || shape.some((size) => !Number.isInteger(size) || size < 1))
    throw new EdgetrainError("usage", `--example-input: a shape of whole numbers such as 1,3,224,224, not "${text}"`);
  return shape;
}

/** The file goes as the body of POST /v1/models/:name/versions; the daemon reads --features-from on this machine. */
async function throughDaemon(args: ParsedArgs, io: CommandIo, request: ImportRequest): Promise<ModelImported> {
  const { paths, loaded } = loadValidHomeProfile(args, io);
  const { url } = daemonAddress(paths.home);
  const token = loaded.profile?.api.token ?? homeToken(paths.home);
  const query = new URLSearchParams({ file: request.file, activate: String(request.activate) });
  if (request.features) query.set("features", request.features.join(","));
  if (request.featuresFrom) query.set("features_from", request.featuresFrom);
  if (request.label) query.set("label", request.label);
  if (request.classes) query.set("classes", request.classes.join(","));
  if (request.task) query.set("task", request.task);
  if (request.converted) {
    query.set("converter", request.converted.converter);
    query.set("source_sha256", request.converted.sha256);
    query.set("conversion", request.converted.description);
  }
  const headers: Record<string, string> = {
    "content-type": "application/octet-stream",
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
  let response: Response;
  try {
    response = await fetch(`${url}/v1/models/${encodeURIComponent(request.model)}/versions?${query}`, {
      method: "POST",
      headers,
      body: request.bytes,
    });
  } catch (error) {
    throw new EdgetrainError("not_found", `the daemon at ${url} does not answer: ${messageOf(error)}`, {
      hint: "is it running? (edgetrain run)",
    });
  }
  const body = (await response.json().catch(() => ({}))) as unknown;
  if (response.status === 413) {
    const { message } = daemonError(response.status, body);
    throw new EdgetrainError("too_large", `${request.file}: ${message}`, {
      hint: "raise api.max_body_kb in the profile and restart the daemon, or import while no daemon runs on the home",
    });
  }
  if (!response.ok) throw daemonError(response.status, body);
  return body as ModelImported;
}

function onStore(args: ParsedArgs, io: CommandIo, request: ImportRequest, logger: Logger): Promise<ModelImported> {
  return withServing(args, io, ({ store, activator }, { resolved, state, copies }) => {
    const { profile, paths, registry } = resolved;
    const events = { emit() {} };
    const parts = { profile, paths, registry, state, store, activator, logger, events, copies };
    return importModel({ profile, paths, store, deployer: new Deployer(parts), logger }, request);
  });
}
