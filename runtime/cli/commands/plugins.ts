import { formatProblem } from "../../config/problems-text.ts";
import { allowedKeysAt } from "../../config/schema-walk.ts";
import { loadPlugins } from "../../plugins/host.ts";
import type { Command } from "../command.ts";
import { homeOptions, loadHomeProfile } from "../home.ts";
import { writeJson } from "../json-answer.ts";
import { writeTable } from "../table.ts";

export const pluginsCommand: Command = {
  name: "plugins",
  summary: "list built-in and user plugins with kind, source and options",
  description:
    "Lists every plugin: built-ins and the .ts/.js files in the profile's plugins_dir, with kind, version, source " +
    "and options.\n\n" +
    "A plugin that fails to load is reported with its file; exit code 1 then.",
  options: { json: { type: "boolean", description: "print {plugins, problems} as JSON" }, ...homeOptions },
  examples: ["edgetrain plugins", "edgetrain plugins --home /data/edgetrain --json"],
  async run(args, io) {
    const pluginsDir = loadHomeProfile(args, io).paths.plugins;
    const registry = await loadPlugins(pluginsDir);
    const rows = registry.list().map((p) => ({
      kind: p.module.kind,
      name: p.module.name,
      version: p.module.version,
      source: p.source,
      options: allowedKeysAt(p.schema, []),
      description: p.module.description ?? "",
      ...(p.module.extensions ? { extensions: p.module.extensions } : {}),
    }));
    if (args.values.json) {
      writeJson(io, { plugins: rows, problems: registry.problems }, { indent: true });
    } else {
      const table = [
        ["KIND", "NAME", "VERSION", "SOURCE", "OPTIONS"],
        ...rows.map((r) => [r.kind, r.name, r.version, r.source, r.options.join(", ") || "-"]),
      ];
      writeTable(io.stdout, table);
      for (const problem of registry.problems) io.stderr.write(`${formatProblem(problem)}\n`);
    }
    return registry.problems.length ? 1 : 0;
  },
};
