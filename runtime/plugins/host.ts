import { builtinPlugins } from "../../plugins/index.ts";
import { loadUserPlugins } from "./load-user-plugins.ts";
import { PluginRegistry } from "./registry.ts";

/** Built-ins first, then the user's plugins from `plugins_dir`; problems are collected, not thrown. */
export async function loadPlugins(pluginsDir: string | undefined): Promise<PluginRegistry> {
  const registry = new PluginRegistry();
  for (const plugin of builtinPlugins) registry.register(plugin, "built-in");
  if (pluginsDir) await loadUserPlugins(pluginsDir, registry);
  return registry;
}
