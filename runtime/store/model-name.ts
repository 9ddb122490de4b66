import { EdgetrainError } from "../errors.ts";

/** Model names appear in URLs and folder names, so they keep to lower-case letters, digits, `.`, `_` and `-`. */
export const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/;

/**
 * The model a job trains for a key: the job's `model` with `{key}` and `{job}` filled in (`btc-{key}`), else
 * `activity-player_7`, or the job's name for a job without keys. Several jobs naming one model write its versions.
 */
export function modelNameOf(job: string, key: string | undefined, template?: string): string {
  const raw = template
    ? template.replaceAll("{job}", job).replaceAll("{key}", key ?? "")
    : key === undefined
      ? job
      : `${job}-${key}`;
  return cleanName(raw);
}

function cleanName(raw: string): string {
  return raw
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, "-")
    .replace(/^[^a-z0-9]+/, "")
    .slice(0, 128);
}

/** Whether `model` is one the job trains: for `key`, or for any of its keys when `key` is undefined. */
export function trainsModel(
  job: string,
  template: string | undefined,
  key: string | undefined,
  model: string,
): boolean {
  if (key !== undefined || (template !== undefined && !template.includes("{key}")))
    return modelNameOf(job, key, template) === model;
  const [before = "", after = ""] = (template ?? "{job}-{key}").replaceAll("{job}", job).split("{key}");
  const prefix = cleanName(before);
  const suffix = after.toLowerCase().replace(/[^a-z0-9._-]+/g, "-");
  return model === cleanName(before.replace(/-$/, "")) || (model.startsWith(prefix) && model.endsWith(suffix));
}

/** Rejects names that could escape the model store (`..`, `/`, upper case) before they reach the file system. */
export function checkModelName(name: string): string {
  if (!MODEL_NAME.test(name) || name.includes("..")) {
    throw new EdgetrainError(
      "bad_input",
      `"${name.slice(0, 80)}" is not a model name: use lower-case letters, digits, ".", "_" and "-"`,
      { details: { model: name.slice(0, 80) } },
    );
  }
  return name;
}
