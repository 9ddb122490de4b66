import { silentLogger } from "../log/logger.ts";
import type { Logger } from "../plugin-api.ts";
import { createServing } from "../serving/serving.ts";
import { ModelStore } from "../store/model-store.ts";
import type { CommandIo, ParsedArgs } from "./command.ts";
import { type loadHomeProfile, openHomeStateAt, resolveHomeProfile } from "./home.ts";

/** A one-shot command's logger: only what the user must know (a repaired file, CUDA missing) reaches stderr. */
export function warningsOnStderr(io: CommandIo): Logger {
  const logger: Logger = {
    ...silentLogger,
    warn: (message) => void io.stderr.write(`warning: ${message}\n`),
    child: () => logger,
  };
  return logger;
}

/** The home's model store, read directly when no daemon runs (reading never needs one). */
export function withStore<T>(
  { loaded, paths }: ReturnType<typeof loadHomeProfile>,
  io: CommandIo,
  read: (store: ModelStore) => T,
): T {
  const state = openHomeStateAt(paths);
  try {
    return read(
      new ModelStore(
        paths.models,
        state.db,
        loaded.profile?.models.keep_versions ?? 3,
        { emit() {} },
        warningsOnStderr(io),
      ),
    );
  } finally {
    state.close();
  }
}

/**
 * Without a daemon: the home's serving parts (store, sessions, cache) on their own, so that activation
 * and rollback make the same checks (sha256, load, health rows) the daemon makes. Closed after `act`.
 */
export async function withServing<T>(
  args: ParsedArgs,
  io: CommandIo,
  act: (serving: Awaited<ReturnType<typeof createServing>>) => Promise<T>,
): Promise<T> {
  const resolved = await resolveHomeProfile(args, io);
  const state = openHomeStateAt(resolved.paths);
  const serving = await createServing({
    profile: resolved.profile,
    paths: resolved.paths,
    registry: resolved.registry,
    state,
    logger: warningsOnStderr(io),
    events: { emit() {} },
    busy: () => false,
  });
  try {
    return await act(serving);
  } finally {
    await serving.pool.close();
    state.close();
  }
}
