import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument } from "yaml";
import { messageOf } from "../errors.ts";
import { type FieldPath, formatPath } from "./field-path.ts";

export interface Position {
  file: string;
  line: number;
  column: number;
}

export interface Problem extends Position {
  /** Field path such as `governor.sample_interval`; empty for file-level problems. */
  path: string;
  message: string;
  hint?: string;
  severity: "error" | "warning";
}

/** One YAML file, parsed, with the position of every key and value so problems can point at them. */
export interface YamlSource {
  file: string;
  value: unknown;
  /** Path → where its value starts. */
  values: Map<string, Position>;
  /** Path → where its key starts (for unknown-key problems). */
  keys: Map<string, Position>;
  syntaxProblems: Problem[];
}

export function parseYamlSource(file: string, text: string): YamlSource {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number): Position => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const syntaxProblems: Problem[] = [...document.errors, ...document.warnings].map((error) => {
    const { line, col } = lineCounter.linePos(error.pos[0]);
    return {
      file,
      line,
      column: col,
      path: "",
      message: `YAML: ${error.message.split("\n")[0]}`,
      severity: error.name === "YAMLWarning" ? "warning" : "error",
    };
  });
  const values = new Map<string, Position>();
  const keys = new Map<string, Position>();
  const walk = (node: Node | null | undefined, path: Array<string | number>) => {
    if (!node) return;
    if (node.range) values.set(formatPath(path), at(node.range[0]));
    if (isMap(node)) {
      for (const pair of node.items) {
        const keyNode = pair.key as Node | null;
        const key = isScalar(keyNode) ? String(keyNode.value) : String(keyNode);
        const childPath = [...path, key];
        if (keyNode?.range) keys.set(formatPath(childPath), at(keyNode.range[0]));
        walk(pair.value as Node | null, childPath);
        // A key with no value (`token:`) still needs a position for its value.
        if (!values.has(formatPath(childPath)) && keyNode?.range)
          values.set(formatPath(childPath), at(keyNode.range[0]));
      }
    } else if (isSeq(node)) {
      node.items.forEach((item, index) => walk(item as Node, [...path, index]));
    }
  };
  walk(document.contents as Node | null, []);
  const value = document.errors.length > 0 ? undefined : plainValues(document, file, syntaxProblems);
  return { file, value, values, keys, syntaxProblems };
}

/**
 * The document as plain values. The yaml library refuses to expand an alias bomb (`[*a, *a, …]` nested) by
 * throwing; that is a problem of the file, reported like a syntax error, not a crash.
 */
function plainValues(document: Document, file: string, problems: Problem[]): unknown {
  try {
    return document.toJS() ?? {};
  } catch (error) {
    problems.push({
      file,
      line: 0,
      column: 0,
      path: "",
      message: `YAML: ${messageOf(error)}`,
      hint: "expand the aliases (*name) by hand: a profile has no need of so many",
      severity: "error",
    });
    return undefined;
  }
}

/** Position of `path` in a source, or of its nearest ancestor that the source spells out. */
export function locate(source: YamlSource, path: FieldPath, preferKey = false): Position | undefined {
  for (let depth = path.length; depth >= 0; depth--) {
    const key = formatPath(path.slice(0, depth));
    const found = (preferKey && depth === path.length ? source.keys.get(key) : undefined) ?? source.values.get(key);
    if (found) return found;
  }
  return undefined;
}
