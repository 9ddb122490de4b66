import { mkdir, rm, writeFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { onnx } from "onnx-proto";
import type * as Ort from "onnxruntime-common";
import type { Profile } from "../config/schema.ts";
import { type CsvTable, readCsvHeader, readCsvTable } from "../data/csv-table.ts";
import { tableOf } from "../data/load-training-data.ts";
import { EdgetrainError, messageOf } from "../errors.ts";
import { describedIn } from "../inference/model-metadata.ts";
import { signatureOf, tableWidth } from "../inference/model-signature.ts";
import { loadOnnxRuntime } from "../inference/onnx-runtime.ts";
import { stripZipMap } from "../inference/strip-zipmap.ts";
import { toFeeds, zeroTensors } from "../inference/tensor-input.ts";
import type { Logger, ResolvedPaths } from "../plugin-api.ts";
import { checkModelName } from "../store/model-name.ts";
import type { ModelStore, ModelVersion } from "../store/model-store.ts";
import type { Deployer } from "./deployer.ts";
import type { Deployment } from "./deployment.ts";
import { checkClasses, checkFeatures, checkTask, refuseRepeats, requireRegularFile } from "./import-checks.ts";

/** What `edgetrain models add` and `POST /v1/models/:name/versions` are given. */
export interface ImportRequest {
  model: string;
  /** The file's name as the user gave it, for messages and the record. */
  file: string;
  bytes: Uint8Array;
  /** The model's feature names, in its input's column order. */
  features?: string[];
  /** A CSV file on this machine whose header names the features; with a label column, its rows are held out. */
  featuresFrom?: string;
  /** The label column of `featuresFrom` (default `label`); not a feature. */
  label?: string;
  classes?: string[];
  task?: "classification" | "regression";
  /** Through the deploy steps (gate, then activate) at once; else stored as a candidate. */
  activate: boolean;
  /** For a file of another framework: the converter, the given file's sha256 and what was converted, in words. */
  converted?: { converter: string; sha256: string; description: string };
}

export interface ImportParts {
  profile: Profile;
  paths: ResolvedPaths;
  store: ModelStore;
  deployer: Deployer;
  logger: Logger;
  signal?: AbortSignal;
}

export interface Imported {
  version: ModelVersion;
  /** What was changed in the file (a ZipMap removed), in words. */
  changes: string[];
  deployment?: Deployment;
}

const HEALTH_ROWS = 5;

/**
 * Checks an ONNX file from any framework (that it decodes, loads in this ONNX Runtime and answers its
 * health rows), removes what the runtime cannot return (ZipMap), stores it as the model's next version
 * with `source: import` and the file's sha256, then passes it through the deploy steps when asked.
 * A refusal names the reason; nothing is written before every check has passed.
 */
export async function importModel(parts: ImportParts, request: ImportRequest): Promise<Imported> {
  checkModelName(request.model);
  const sha256 = request.converted?.sha256 ?? new Bun.CryptoHasher("sha256").update(request.bytes).digest("hex");
  const decoded = decodeModel(request);
  // A model edgetrain made elsewhere says what it is; the user's flags still win.
  const described = describedIn(decoded);
  const { bytes, changes, classes: zipClasses } = stripZipMap(request.bytes, decoded);
  const label = request.label ?? "label";
  if (request.featuresFrom) requireRegularFile(request.featuresFrom);
  const header = request.featuresFrom ? await readCsvHeader(request.featuresFrom) : undefined;
  const features =
    request.features ??
    (described?.feature_names?.length ? described.feature_names : undefined) ??
    header?.filter((column) => column !== label);
  const csv = request.featuresFrom
    ? await readCsvTable([request.featuresFrom], {
        label,
        features,
        onBadCell: "fail",
        allowMissingLabel: !header?.includes(label),
      })
    : undefined;
  const classes = request.classes ?? zipClasses ?? (described?.classes?.length ? described.classes : undefined);
  const task = request.task ?? described?.task ?? (classes?.length ? "classification" : undefined);
  refuseRepeats(request, "features", features);
  refuseRepeats(request, "classes", classes);
  const healthRows = csv ? rowsOf(csv, HEALTH_ROWS) : undefined;
  await checkInRuntime(parts, request, bytes, { features, classes, task }, healthRows);
  const staging = join(parts.paths.cache, "imports", `${request.model}-${process.pid}-${Date.now()}.onnx`);
  await mkdir(join(parts.paths.cache, "imports"), { recursive: true });
  let version: ModelVersion;
  try {
    await writeFile(staging, bytes);
    version = await parts.store.addVersion(
      request.model,
      staging,
      {
        source: "import",
        imported: { file: basename(request.file), sha256, changes, ...conversionOf(request) },
        task,
        feature_names: features,
        classes,
        metrics: {},
        ...(request.featuresFrom ? { data: { file: request.featuresFrom } } : {}),
      },
      healthRows,
    );
  } finally {
    await rm(staging, { force: true });
  }
  for (const change of changes) parts.logger.warn(`model ${request.model} version ${version.version}: ${change}`);
  if (!request.activate) return { version, changes };
  const heldOut = csv?.labels.some((label) => label !== "") ? tableOf(csv) : undefined;
  const deployment = await parts.deployer.deployStored({
    model: request.model,
    version: version.version,
    heldOut,
    reason: `imported from ${basename(request.file)}`,
    logger: parts.logger,
    signal: parts.signal ?? new AbortController().signal,
  });
  return { version: parts.store.requireVersion(request.model, version.version), changes, deployment };
}

function conversionOf({ converted }: ImportRequest): { converter?: string; conversion?: string } {
  return converted ? { converter: converted.converter, conversion: converted.description } : {};
}

/** A file that is not ONNX, or cut short, fails to decode or decodes to a model without a graph. */
function decodeModel(request: ImportRequest): onnx.ModelProto {
  let model: onnx.ModelProto;
  try {
    model = onnx.ModelProto.decode(request.bytes);
  } catch (error) {
    throw refused(request, `is not an ONNX model, or is cut short (${messageOf(error)})`);
  }
  if (!model.graph?.node?.length || !model.graph.output?.length)
    throw refused(request, "is not an ONNX model: it holds no graph of nodes and outputs");
  return model;
}

function rowsOf(csv: CsvTable, count: number): number[][] {
  const width = csv.featureNames.length;
  return Array.from({ length: Math.min(count, csv.labels.length) }, (_, row) =>
    Array.from(csv.x.subarray(row * width, (row + 1) * width)),
  );
}

/** Loads the model in the runtime that will serve it, and runs its health rows (or a row of zeros) through it. */
async function checkInRuntime(
  parts: ImportParts,
  request: ImportRequest,
  bytes: Uint8Array,
  { features, classes, task }: { features?: string[]; classes?: string[]; task?: ImportRequest["task"] },
  healthRows: number[][] | undefined,
): Promise<void> {
  const runtime = await loadOnnxRuntime({
    preference: parts.profile.inference.backend,
    cacheDir: parts.paths.cache,
    logger: parts.logger,
  });
  let session: Ort.InferenceSession;
  try {
    session = await runtime.ort.InferenceSession.create(bytes, {
      executionProviders: [runtime.backend === "wasm" ? "wasm" : "cpu"],
      logSeverityLevel: 4,
    });
  } catch (error) {
    throw refused(
      request,
      `does not load in ONNX Runtime ${runtime.version} (an opset or operator it lacks?): ` +
        `${messageOf(error).split("\n")[0]}`,
    );
  }
  try {
    const signature = signatureOf(session);
    checkFeatures(request, signature, features);
    const width = tableWidth(signature);
    const given = healthRows?.length && width ? { [signature.inputs[0]!.name]: healthRows } : zeroTensors(signature);
    const { feeds } = toFeeds(given, signature, request.model, "health rows", Number.MAX_SAFE_INTEGER);
    let outputs: Ort.InferenceSession.ReturnType;
    try {
      const tensors = Object.fromEntries(
        Object.entries(feeds).map(([name, feed]) => [
          name,
          new runtime.ort.Tensor(feed.type, feed.data as never, feed.dims),
        ]),
      );
      outputs = await session.run(
        tensors,
        signature.outputs.filter((o) => o.type !== "sequence").map((o) => o.name),
      );
    } catch (error) {
      throw refused(request, `fails its health rows: ${messageOf(error).split("\n")[0]}`);
    }
    checkClasses(request, outputs, classes);
    checkTask(request, outputs, task);
    for (const [name, tensor] of Object.entries(outputs)) {
      const values = tensor.data as ArrayLike<unknown>;
      for (let i = 0; i < values.length; i++)
        if (typeof values[i] === "number" && !Number.isFinite(values[i]))
          throw refused(request, `fails its health rows: output ${name} holds ${values[i]}`);
    }
  } finally {
    await session.release();
  }
}

export function refused(request: ImportRequest, why: string): EdgetrainError {
  return new EdgetrainError(
    "model_not_loadable",
    `${basename(request.file)} ${why}; model ${request.model} unchanged`,
    { details: { model: request.model, file: basename(request.file) } },
  );
}
