import { EdgetrainError } from "../../errors.ts";
import { warmCache } from "../../serving/cache-warm.ts";
import type { Command } from "../command.ts";
import { daemonClient, daemonRuns } from "../daemon-client.ts";
import { homeOptions, loadValidHomeProfile } from "../home.ts";
import { writeAnswer } from "../json-answer.ts";
import { withServing } from "../without-daemon.ts";

export const cacheCommand: Command = {
  name: "cache",
  summary: "prediction cache: stats, clear (all, or one model), or warm (pregenerate predictions)",
  description:
    "Shows the prediction cache's entries, hits and misses, clears it, or warms it: computes the pregenerated " +
    "predictions (cache.pregenerate: the file's inputs and the most requested ones) of one model or of all that " +
    "serve, as a scheduled run and an activation do. Through the daemon when one runs; else on the disk cache " +
    "directly (the memory cache lives only in the daemon, so without one it is empty, and only the pregenerate file " +
    "is known).",
  arguments: [
    { name: "action", choices: ["stats", "clear", "warm"], description: "stats, clear or warm" },
    { name: "model", optional: true, description: "clear or warm only this model" },
  ],
  options: {
    json: { type: "boolean", description: "print the stats, or what was cleared or warmed, as JSON" },
    ...homeOptions,
  },
  examples: ["edgetrain cache stats", "edgetrain cache clear activity-player_7", "edgetrain cache warm"],
  async run(args, io) {
    const [action, model] = args.positionals;
    if (action !== "stats" && action !== "clear" && action !== "warm") {
      throw new EdgetrainError("usage", `edgetrain cache: expected stats, clear or warm, got "${action ?? ""}"`);
    }
    const { paths } = loadValidHomeProfile(args, io);
    const daemon = daemonRuns(paths.home) ? daemonClient(args, io) : undefined;
    if (action === "stats") {
      type Stats = { type: string; entries: number; hits: number; misses: number; hit_rate: number };
      const stats = daemon
        ? await daemon.answer(daemon.api.v1.cache.get())
        : await withServing(
            args,
            io,
            async (serving): Promise<Stats> => ({ ...serving.service.cacheStats(), type: serving.cacheType }),
          );
      const counts = daemon
        ? `, ${stats.hits} hits, ${stats.misses} misses, hit rate ${(stats.hit_rate * 100).toFixed(1)} %`
        : " on disk (no daemon runs)";
      writeAnswer(
        io,
        args,
        { ...stats, daemon: daemon !== undefined },
        `${stats.type} cache: ${stats.entries} entries${counts}\n`,
      );
      return 0;
    }
    if (action === "warm") {
      const { warmed } = daemon
        ? await daemon.answer(daemon.api.v1.cache.warm.post(undefined, { query: { model } }))
        : await withServing(args, io, async (serving) => {
            const answer = { warmed: await warmCache(serving.store, serving.service, model) };
            await serving.cache.flush?.();
            return answer;
          });
      const lines = warmed.map((entry) => `${entry.model}: ${entry.entries} pregenerated\n`).join("");
      writeAnswer(io, args, { warmed, daemon: daemon !== undefined }, lines || "no model serves: nothing to warm\n");
      return 0;
    }
    if (daemon) await daemon.answer(daemon.api.v1.cache.delete(undefined, { query: { model } }));
    else
      await withServing(args, io, async (serving) => {
        serving.service.clearCache(model);
        await serving.cache.flush?.();
      });
    writeAnswer(
      io,
      args,
      { cleared: model ?? "all", daemon: daemon !== undefined },
      `cleared ${model ? `the cache of ${model}` : "the whole cache"}\n`,
    );
    return 0;
  },
};
