import type { CommandIo, ParsedArgs } from "./command.ts";

/**
 * Maps whose keys are names chosen by people or plugins (metric names, plugin options): printed as they are.
 * Every other key is a field name, and the CLI prints field names in snake_case.
 */
const NAMED_BY_USERS = new Set(["metrics", "options"]);

const snakeCase = (key: string) => key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toLowerCase();

/** `at` and `*_at` hold times; inside edgetrain they are milliseconds since the epoch. */
const isTimeKey = (key: string) => key === "at" || key.endsWith("_at");

/**
 * One casing and one time format in every JSON answer of the CLI, whatever the module that made the value:
 * keys in snake_case (`cpuPercent` → `cpu_percent`), times in ISO 8601 (`started_at: 1712890000000` →
 * `"2024-04-12T03:06:40.000Z"`). Keys already in snake_case and times already in ISO pass unchanged.
 */
export function jsonAnswer(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(jsonAnswer);
  if (value === null || typeof value !== "object" || value instanceof Date) return value;
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    const name = snakeCase(key);
    if (NAMED_BY_USERS.has(name)) out[name] = field;
    else if (isTimeKey(name) && typeof field === "number" && Number.isFinite(field))
      out[name] = new Date(field).toISOString();
    else out[name] = jsonAnswer(field);
  }
  return out;
}

/**
 * A command's answer in JSON on stdout: one line, or indented where a person is expected to read it too.
 * `asIs` prints the value untouched, for documents whose keys are not edgetrain's to rename (a profile).
 */
export function writeJson(io: CommandIo, value: unknown, options: { indent?: boolean; asIs?: boolean } = {}): void {
  io.stdout.write(
    `${JSON.stringify(options.asIs ? value : jsonAnswer(value), null, options.indent ? 2 : undefined)}\n`,
  );
}

/** The answer of a command that says what it did: `json` with --json, else the sentence. */
export function writeAnswer(io: CommandIo, args: ParsedArgs, json: unknown, text: string): void {
  if (args.values.json) writeJson(io, json);
  else io.stdout.write(text);
}
