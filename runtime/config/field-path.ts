export type FieldPath = ReadonlyArray<string | number>;

/** `jobs.activity.triggers[0].type`: how field paths are shown to people and used as map keys. */
export function formatPath(path: FieldPath): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out ? `.${part}` : part;
  }
  return out;
}
