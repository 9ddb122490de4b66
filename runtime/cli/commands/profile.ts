import { Document, isScalar, isSeq, visit, type Scalar } from "yaml";
import { formatPath } from "../../config/field-path.ts";
import { loadProfile } from "../../config/load-profile.ts";
import { resolvePaths } from "../../config/paths.ts";
import { EdgetrainError } from "../../errors.ts";
import type { Command } from "../command.ts";
import { homeAndProfile, homeOptions } from "../home.ts";
import { formatProblem } from "../problems-text.ts";

const ALWAYS_SECRET = new Set(["api.token"]);

export const profileCommand: Command = {
  name: "profile",
  summary: "show the merged profile; --resolved also says where each value came from",
  help: `Usage: edgetrain profile show [--resolved] [--profile NAME] [--home DIR]

Prints the profile after merging its extends chain, environment and defaults, as YAML.
With --resolved each value carries a comment naming its origin (file:line, default,
environment or flag) and the paths are shown resolved. Secrets are never printed.`,
  options: { ...homeOptions, resolved: { type: "boolean" } },
  async run(args, io) {
    const [sub] = args.positionals;
    if (sub !== "show") throw new EdgetrainError("usage", `edgetrain profile: expected "show", got ${sub ? `"${sub}"` : "nothing"}`, { hint: "edgetrain profile show [--resolved]" });
    const { profile, homeFlag } = homeAndProfile(args, io);
    const loaded = loadProfile({ profile, environment: io.environment, overrides: { home: homeFlag } });
    if (!loaded.profile) {
      for (const problem of loaded.problems) io.stderr.write(formatProblem(problem) + "\n");
      return 1;
    }
    const value = structuredClone(loaded.profile) as Record<string, unknown>;
    const document = new Document(value);
    const resolved = Boolean(args.values.resolved);
    visit(document, {
      Pair(_key, pair, path) {
        if (!isScalar(pair.key)) return;
        const fieldPath = [...path.filter((node): node is { key: Scalar } & typeof pair => "key" in (node as object)).map((node) => String((node.key as Scalar).value)), String(pair.key.value)];
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
    io.stdout.write(`# profile ${loaded.name}: ${loaded.files.join(" ← ") || "built-in"}\n`);
    io.stdout.write(document.toString({ lineWidth: 0 }));
    if (resolved) {
      const paths = resolvePaths(loaded.profile, io.environment.userHome);
      io.stdout.write(`# resolved paths\n${Object.entries(paths).map(([name, path]) => `#   ${name}: ${path}`).join("\n")}\n`);
    }
    return 0;
  },
};
