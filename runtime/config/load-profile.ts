import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, resolve } from "node:path";
import * as v from "valibot";
import type { Environment } from "../environment.ts";
import { messageOf } from "../errors.ts";
import { builtinProfileFile, builtinProfiles } from "./builtin-profiles.ts";
import { substituteEnvironment } from "./env-substitution.ts";
import { type FieldPath, formatPath } from "./field-path.ts";
import { type Locator, problemsFromIssues } from "./issues.ts";
import { deepMerge, forEachLeaf, isTree, type Tree } from "./merge.ts";
import { type Profile, ProfileSchema } from "./schema.ts";
import { locate, type Position, type Problem, parseYamlSource, type YamlSource } from "./yaml-source.ts";

/** Values given on the command line; they win over everything else. */
export interface ProfileOverrides {
  home?: string;
  host?: string;
  port?: number;
}

export interface ProfileRequest {
  /** A built-in profile name (`jetson-nano`) or a YAML file path. */
  profile: string;
  environment: Environment;
  overrides?: ProfileOverrides;
}

/** One step of the precedence chain: defaults → extends chain → the profile file → EDGETRAIN_* → flags. */
interface Layer {
  label: string;
  value: Tree;
  source?: YamlSource;
}

export interface LoadedProfile {
  name: string;
  /** The validated, frozen profile; undefined when there are errors. */
  profile?: Profile;
  /** The merged values before validation, for locating plugin option problems. */
  raw: Tree;
  problems: Problem[];
  /** Field path → where its value came from (`profiles/base.yaml:12`, `flag --port`, `default`). */
  origins: Map<string, string>;
  /** Field paths whose value came from `${VAR}`: never print or log them. */
  secrets: Map<string, string>;
  locate: Locator;
  /** Files read, in precedence order; SIGHUP re-reads them. */
  files: string[];
}

export function loadProfile(request: ProfileRequest): LoadedProfile {
  const problems: Problem[] = [];
  const chain = readChain(request.profile, problems);
  const layers: Layer[] = [
    { label: "default", value: v.parse(ProfileSchema, {}) as Tree },
    ...chain.map((source) => ({ label: source.file, value: withoutExtends(source.value), source })),
    ...environmentLayers(request.environment),
    ...flagLayers(request.overrides ?? {}),
  ];
  const merged = layers.reduce<Tree>((acc, layer) => deepMerge(acc, layer.value), {});
  const locator = makeLocator(layers);
  const { value: raw, substituted, missing } = substituteEnvironment(merged, request.environment.variables);
  for (const reference of missing) {
    problems.push({
      ...locator(reference.path),
      path: formatPath(reference.path),
      message: `environment variable ${reference.variable} is not set`,
      hint: `export ${reference.variable}=… or write \${${reference.variable}:-default}`,
      severity: "error",
    });
  }
  const result = v.safeParse(ProfileSchema, raw, { abortEarly: false });
  if (!result.success) {
    // An unset variable already explains why the value is empty; don't report it twice.
    const unset = new Set(missing.map((reference) => formatPath(reference.path)));
    problems.push(
      ...problemsFromIssues(result.issues, ProfileSchema, locator).filter((problem) => !unset.has(problem.path)),
    );
  }
  problems.sort(byPosition);
  return {
    name: profileName(request.profile),
    profile: result.success && !problems.some((p) => p.severity === "error") ? result.output : undefined,
    raw,
    problems,
    origins: originsOf(layers, raw),
    secrets: new Map(substituted.map((s) => [formatPath(s.path), s.variable])),
    locate: locator,
    files: chain.map((source) => source.file),
  };
}

export function profileName(profile: string): string {
  return profile in builtinProfiles ? profile : profile.replace(/^.*\//, "").replace(/\.ya?ml$/, "");
}

/** The profile and everything it extends, base first. */
function readChain(start: string, problems: Problem[]): YamlSource[] {
  const chain: YamlSource[] = [];
  const seen = new Set<string>();
  let reference: string | undefined = start;
  let from: Position | undefined;
  let fromDir = process.cwd();
  while (reference !== undefined) {
    const found = readProfileSource(reference, fromDir);
    if (typeof found === "string") {
      problems.push({
        ...(from ?? { file: reference, line: 0, column: 0 }),
        path: from ? "extends" : "",
        message: `profile "${reference}" ${found}`,
        severity: "error",
      });
      break;
    }
    if (!found) {
      const known = Object.keys(builtinProfiles).join(", ");
      problems.push({
        ...(from ?? { file: reference, line: 0, column: 0 }),
        path: from ? "extends" : "",
        message: `profile "${reference}" not found: not a file, nor a built-in profile`,
        hint: `built-in profiles: ${known}`,
        severity: "error",
      });
      break;
    }
    if (seen.has(found.file)) {
      problems.push({
        ...(from ?? { file: found.file, line: 0, column: 0 }),
        path: "extends",
        message: `profile "${reference}" extends itself through ${[...seen].join(" → ")}`,
        severity: "error",
      });
      break;
    }
    seen.add(found.file);
    chain.unshift(found);
    problems.push(...found.syntaxProblems);
    if (!isTree(found.value)) {
      if (found.value !== undefined)
        problems.push({
          file: found.file,
          line: 1,
          column: 1,
          path: "",
          message: "a profile must be a YAML map of sections",
          severity: "error",
        });
      break;
    }
    const next = found.value.extends;
    if (next !== undefined && typeof next !== "string") {
      problems.push({
        ...locate(found, ["extends"])!,
        path: "extends",
        message: `expected a profile name or file, got ${JSON.stringify(next)}`,
        severity: "error",
      });
      break;
    }
    from = next === undefined ? undefined : locate(found, ["extends"]);
    fromDir =
      found.file.startsWith("profiles/") && !existsSync(found.file) ? process.cwd() : dirname(resolve(found.file));
    reference = next;
  }
  return chain;
}

/** A profile reference with a folder or a .yaml ending is a file; any other is a built-in profile's name. */
export function namesProfileFile(reference: string): boolean {
  return reference.includes("/") || /\.ya?ml$/.test(reference);
}

/** The profile's source; undefined when there is none by that name, or why the file there cannot be read. */
function readProfileSource(reference: string, fromDir: string): YamlSource | string | undefined {
  if (namesProfileFile(reference)) {
    const file = isAbsolute(reference) ? reference : resolve(fromDir, reference);
    if (!existsSync(file)) return undefined;
    const where = file === reference ? "" : ` (${file})`;
    if (statSync(file).isDirectory()) return `is a folder, not a profile file${where}`;
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch (error) {
      return `cannot be read${where}: ${messageOf(error)}`;
    }
    return parseYamlSource(file, text);
  }
  const text = builtinProfiles[reference];
  return text === undefined ? undefined : parseYamlSource(builtinProfileFile(reference), text);
}

function withoutExtends(value: unknown): Tree {
  if (!isTree(value)) return {};
  const { extends: _extends, ...rest } = value;
  return rest;
}

function environmentLayers(environment: Environment): Layer[] {
  const layers: Layer[] = [];
  if (environment.home)
    layers.push({ label: "environment EDGETRAIN_HOME", value: { paths: { home: environment.home } } });
  if (environment.logs)
    layers.push({ label: "environment EDGETRAIN_LOGS", value: { paths: { logs: environment.logs } } });
  return layers;
}

function flagLayers(overrides: ProfileOverrides): Layer[] {
  const layers: Layer[] = [];
  if (overrides.home !== undefined) layers.push({ label: "flag --home", value: { paths: { home: overrides.home } } });
  if (overrides.host !== undefined) layers.push({ label: "flag --host", value: { api: { host: overrides.host } } });
  if (overrides.port !== undefined) layers.push({ label: "flag --port", value: { api: { port: overrides.port } } });
  return layers;
}

/** Finds a field in the last layer that spells it out, so problems point at the line that set the value. */
function makeLocator(layers: Layer[]): Locator {
  const sources = layers.flatMap((layer) => (layer.source ? [layer.source] : []));
  return (path: FieldPath, preferKey = false) => {
    for (let depth = path.length; depth >= 0; depth--) {
      const prefix = path.slice(0, depth);
      for (let i = sources.length - 1; i >= 0; i--) {
        const source = sources[i]!;
        const key = formatPath(prefix);
        const found = (preferKey && depth === path.length ? source.keys.get(key) : undefined) ?? source.values.get(key);
        if (found) return found;
      }
    }
    const last = sources.at(-1);
    return { file: last?.file ?? "(profile)", line: 1, column: 1 };
  };
}

function originsOf(layers: Layer[], merged: Tree): Map<string, string> {
  const origins = new Map<string, string>();
  forEachLeaf(merged, (path) => {
    const key = formatPath(path);
    for (let i = layers.length - 1; i >= 0; i--) {
      const layer = layers[i]!;
      if (!hasPath(layer.value, path)) continue;
      const position = layer.source?.values.get(key);
      origins.set(key, position ? `${layer.label}:${position.line}` : layer.label);
      return;
    }
  });
  return origins;
}

function hasPath(tree: unknown, path: FieldPath): boolean {
  let node: unknown = tree;
  for (const part of path) {
    if (node === null || typeof node !== "object" || !(part in (node as object))) return false;
    node = (node as Record<string | number, unknown>)[part];
  }
  return true;
}

export function byPosition(a: Position, b: Position): number {
  return a.file === b.file ? a.line - b.line || a.column - b.column : 0;
}
