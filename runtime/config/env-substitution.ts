import { parse as parseYamlScalar } from "yaml";
import { isTree, type Tree } from "./merge.ts";

const REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;
const WHOLE_REFERENCE = /^\$\{[A-Za-z_][A-Za-z0-9_]*(?::-[^}]*)?\}$/;

export interface Substitution {
  path: Array<string | number>;
  variable: string;
}

export interface SubstitutionResult {
  value: Tree;
  /** Values that came from the environment: secrets, never printed or logged. */
  substituted: Substitution[];
  missing: Substitution[];
}

/**
 * Replaces `${VAR}` and `${VAR:-default}` in string values. A value that is one reference alone
 * takes the variable's YAML type, so `port: ${PORT}` gives a number.
 */
export function substituteEnvironment(
  tree: Tree,
  variables: Readonly<Record<string, string | undefined>>,
): SubstitutionResult {
  const substituted: Substitution[] = [];
  const missing: Substitution[] = [];
  const visit = (value: unknown, path: Array<string | number>): unknown => {
    if (typeof value === "string" && value.includes("${")) {
      const whole = WHOLE_REFERENCE.test(value);
      const replaced = value.replace(REFERENCE, (_match, name: string, fallback: string | undefined) => {
        const found = variables[name];
        if (found !== undefined && found !== "") {
          substituted.push({ path, variable: name });
          return found;
        }
        if (fallback !== undefined) return fallback;
        missing.push({ path, variable: name });
        return "";
      });
      return whole ? typedScalar(replaced) : replaced;
    }
    if (Array.isArray(value)) return value.map((item, index) => visit(item, [...path, index]));
    if (isTree(value))
      return Object.fromEntries(Object.entries(value).map(([key, child]) => [key, visit(child, [...path, key])]));
    return value;
  };
  return { value: visit(tree, []) as Tree, substituted, missing };
}

function typedScalar(text: string): unknown {
  if (text === "") return text;
  try {
    const parsed = parseYamlScalar(text);
    return typeof parsed === "number" || typeof parsed === "boolean" ? parsed : text;
  } catch {
    return text;
  }
}
