import { EdgetrainError } from "../errors.ts";

/** Model names appear in URLs and folder names, so they keep to lower-case letters, digits, `.`, `_` and `-`. */
export const MODEL_NAME = /^[a-z0-9][a-z0-9._-]{0,127}$/;

/** The model a job trains for a key: `activity-player_7`; a job without keys trains the model named after it. */
export function modelNameOf(job: string, key: string | undefined): string {
  const raw = key === undefined ? job : `${job}-${key}`;
  return raw.toLowerCase().replace(/[^a-z0-9._-]+/g, "-").replace(/^[^a-z0-9]+/, "").slice(0, 128);
}

/** Rejects names that could escape the model store (`..`, `/`, upper case) before they reach the file system. */
export function checkModelName(name: string): string {
  if (!MODEL_NAME.test(name) || name.includes("..")) {
    throw new EdgetrainError("bad_input", `"${name.slice(0, 80)}" is not a model name: use lower-case letters, digits, ".", "_" and "-"`, { details: { model: name.slice(0, 80) } });
  }
  return name;
}
