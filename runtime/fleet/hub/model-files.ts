import { createHash } from "node:crypto";
import { copyFileSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { EdgetrainError } from "../../errors.ts";
import { readModelDescription } from "../../inference/model-metadata.ts";
import type { Registry } from "./registry.ts";

export interface ModelFile {
  model: string;
  version: number;
  file: string;
  size: number;
  sha256: string;
  task: "classification" | "regression";
  feature_names: string[];
  classes: string[] | null;
  created_at: number;
}

interface RawModelFile extends Omit<ModelFile, "feature_names" | "classes"> {
  feature_names: string;
  classes: string | null;
}

/** The model versions the hub has published, their files kept in `<home>/models/NAME/VERSION.onnx`. */
export class ModelFiles {
  constructor(
    private readonly home: string,
    private readonly registry: Registry,
  ) {}

  /**
   * Takes an ONNX file in as the next version of `model` (or `version`): its edgetrain metadata gives the
   * task, feature names and classes the devices' stores need; a file without it is refused.
   */
  add(model: string, source: string, at: number, version?: number): ModelFile {
    const bytes = readFileSync(source);
    const description = readModelDescription(bytes, source);
    if (!description) {
      throw new EdgetrainError("bad_input", `${source} has no edgetrain metadata (task, feature names, classes)`, {
        hint: "publish a model trained by edgetrain, or one exported from `edgetrain models`",
        details: { file: source },
      });
    }
    const next = version ?? (this.latest(model)?.version ?? 0) + 1;
    if (this.get(model, next))
      throw new EdgetrainError("conflict", `the hub already has version ${next} of model ${model}`, {
        details: { model, version: next },
      });
    const dir = join(this.home, "models", model);
    mkdirSync(dir, { recursive: true });
    const file = join(dir, `${next}.onnx`);
    copyFileSync(source, file);
    const row: ModelFile = {
      model,
      version: next,
      file,
      size: bytes.length,
      sha256: createHash("sha256").update(bytes).digest("hex"),
      task: description.task,
      feature_names: description.feature_names,
      classes: description.task === "classification" ? description.classes : null,
      created_at: at,
    };
    this.registry.db
      .query(
        `INSERT INTO model_files (model, version, file, size, sha256, task, feature_names, classes, created_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      )
      .run(
        model,
        next,
        file,
        row.size,
        row.sha256,
        row.task,
        JSON.stringify(row.feature_names),
        row.classes ? JSON.stringify(row.classes) : null,
        at,
      );
    return row;
  }

  /**
   * Takes back a version no rollout has named: what `hub publish` stored before its rollout was refused.
   * One a rollout named stays, as the deployment history and rollbacks refer to it.
   */
  remove(model: string, version: number): ModelFile {
    const file = this.get(model, version);
    if (!file)
      throw new EdgetrainError("not_found", `the hub has no version ${version} of model ${model}`, {
        details: { model, version },
      });
    const named = this.registry.db
      .query<{ id: string }, [string, number]>("SELECT id FROM rollouts WHERE model = ? AND version = ? LIMIT 1")
      .get(model, version);
    if (named)
      throw new EdgetrainError("conflict", `version ${version} of model ${model} was rolled out (${named.id})`, {
        hint: "roll another version out, or back: edgetrain hub rollback MODEL",
        details: { model, version, rollout: named.id },
      });
    this.registry.db.query("DELETE FROM model_files WHERE model = ? AND version = ?").run(model, version);
    rmSync(file.file, { force: true });
    return file;
  }

  get(model: string, version: number): ModelFile | undefined {
    const row = this.registry.db
      .query<RawModelFile, [string, number]>("SELECT * FROM model_files WHERE model = ? AND version = ?")
      .get(model, version);
    return row ? parsed(row) : undefined;
  }

  latest(model: string): ModelFile | undefined {
    return this.versions(model)[0];
  }

  /** Newest first. */
  versions(model: string): ModelFile[] {
    return this.registry.db
      .query<RawModelFile, [string]>("SELECT * FROM model_files WHERE model = ? ORDER BY version DESC")
      .all(model)
      .map(parsed);
  }

  all(): ModelFile[] {
    return this.registry.db
      .query<RawModelFile, []>("SELECT * FROM model_files ORDER BY model, version DESC")
      .all()
      .map(parsed);
  }
}

function parsed(row: RawModelFile): ModelFile {
  return {
    ...row,
    feature_names: JSON.parse(row.feature_names) as string[],
    classes: row.classes ? (JSON.parse(row.classes) as string[]) : null,
  };
}
