import { Document, isScalar, isSeq, type Scalar, visit } from "yaml";
import { formatPath } from "./field-path.ts";
import type { LoadedProfile } from "./load-profile.ts";
import { resolvePaths } from "./paths.ts";

const ALWAYS_SECRET = new Set(["api.token", "fleet.password", "fleet.api_key"]);

/**
 * The merged profile as YAML, secrets masked; `resolved` adds each value's origin (file:line, default,
 * environment, flag) as a comment and the resolved paths. For `profile show` and the TUI's profile screen.
 */
export function renderProfile(loaded: LoadedProfile, resolved: boolean, userHome: string): string {
  if (!loaded.profile) return "";
  const document = new Document(structuredClone(loaded.profile) as Record<string, unknown>);
  visit(document, {
    Pair(_key, pair, path) {
      if (!isScalar(pair.key)) return;
      const fieldPath = [
        ...path
          .filter((node): node is { key: Scalar } & typeof pair => "key" in (node as object))
          .map((node) => String((node.key as Scalar).value)),
        String(pair.key.value),
      ];
      const key = formatPath(fieldPath);
      const variable = loaded.secrets.get(key);
      if (variable || (ALWAYS_SECRET.has(key) && pair.value)) {
        pair.value = document.createNode(variable ? `<from $${variable}>` : "<secret>");
      }
      if (resolved && (isScalar(pair.value) || isSeq(pair.value))) {
        const origin = loaded.origins.get(key);
        if (origin && pair.value) (pair.value as Scalar).comment = ` ${origin}`;
      }
    },
  });
  let text =
    `# profile ${loaded.name}: ` + `${loaded.files.join(" ← ") || "built-in"}\n${document.toString({ lineWidth: 0 })}`;
  if (resolved) {
    const paths = resolvePaths(loaded.profile, userHome);
    text += `# resolved paths\n${Object.entries(paths)
      .map(([name, path]) => `#   ${name}: ${path}`)
      .join("\n")}\n`;
  }
  return text;
}
