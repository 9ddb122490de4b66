import { join } from "node:path";
import { FileCopies } from "../deploy/file-copies.ts";
import { EventBus } from "../events/bus.ts";
import { silentLogger } from "../log/logger.ts";
import type { Logger } from "../plugin-api.ts";
import { createServing, type Serving } from "../serving/serving.ts";
import type { StateDatabase } from "../state/database.ts";
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

/** What a command working on the home without a daemon has besides its serving parts. */
export interface HomeAtHand {
  resolved: Awaited<ReturnType<typeof resolveHomeProfile>>;
  state: StateDatabase;
  logger: Logger;
  /** The predictors' folders (copy-to-dir), kept on the serving version at each activation and rollback. */
  copies: FileCopies;
}

/**
 * Without a daemon: the home's serving parts (store, sessions, cache) on their own, so that activation
 * and rollback make the same checks (sha256, load, health rows) the daemon makes, and put the serving
 * version's file in the predictors' folders as it does (pending while they predict). Closed after `act`.
 */
export async function withServing<T>(
  args: ParsedArgs,
  io: CommandIo,
  act: (serving: Serving, home: HomeAtHand) => Promise<T>,
): Promise<T> {
  const resolved = await resolveHomeProfile(args, io);
  const { profile, paths, registry } = resolved;
  const state = openHomeStateAt(paths);
  const logger = warningsOnStderr(io);
  const events = new EventBus();
  const serving = await createServing({ profile, paths, registry, state, logger, events, busy: () => false });
  const copies = new FileCopies({
    state,
    profile: () => profile,
    home: paths.home,
    logger,
    events,
    procRoot: join(io.environment.hostRoot, "proc"),
    versions: () => serving.store,
  });
  const unfollow = copies.follow(events);
  try {
    return await act(serving, { resolved, state, logger, copies });
  } finally {
    unfollow();
    await serving.pool.close();
    state.close();
  }
}
