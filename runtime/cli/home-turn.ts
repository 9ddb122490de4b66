import { join } from "node:path";
import { EdgetrainError } from "../errors.ts";
import { makeHomeFolder } from "../files/make-home-folder.ts";
import { acquireLock, type HeldLock, type LockOwner, readLockOwner } from "../locks/lockfile.ts";
import { daemonPid } from "./daemon-client.ts";

/** This process holds the home until it releases the lock, or a daemon owns the home and takes the request. */
export type HomeTurn = { lock: HeldLock } | { daemon: LockOwner };

const POLL_MS = 500;

/**
 * The home for a command that trains without a daemon: its store, versions and unfinished deploys are this
 * process's alone while it holds the home's lock. Another such command holding it is waited for (said once),
 * as two would number versions alike and prune each other's; a daemon holding it is handed the request.
 */
export async function takeHomeTurn(
  home: string,
  said: (text: string) => void,
  signal?: AbortSignal,
): Promise<HomeTurn> {
  // A first command on a new home makes it: its lock needs the folder.
  makeHomeFolder(home, [home]);
  const path = join(home, "edgetrain.lock");
  let waitingFor: number | undefined;
  for (;;) {
    try {
      return { lock: acquireLock(path, `home ${home}`) };
    } catch (error) {
      if (!(error instanceof EdgetrainError) || error.code !== "home_locked") throw error;
    }
    const owner = readLockOwner(path);
    if (owner && daemonPid(home) === owner.pid) return { daemon: owner };
    if (owner && owner.pid !== waitingFor) {
      waitingFor = owner.pid;
      said(`waiting for pid ${owner.pid} (${owner.command}) to finish with home ${home}`);
    }
    if (signal?.aborted) throw signal.reason;
    await Bun.sleep(POLL_MS);
  }
}

/**
 * Runs `work` on a home no daemon owns while holding its lock, as `edgetrain train` does: a version added,
 * activated or rolled back beside a train would be numbered alike or pruned by it.
 */
export async function holdingHome<T>(home: string, said: (text: string) => void, work: () => Promise<T>): Promise<T> {
  const turn = await takeHomeTurn(home, said);
  if ("daemon" in turn)
    throw new EdgetrainError("home_locked", `a daemon (pid ${turn.daemon.pid}) started on ${home} meanwhile`, {
      hint: "run the command again: it goes through the daemon now",
    });
  try {
    return await work();
  } finally {
    turn.lock.release();
  }
}

/** How the CLI says it waits for the home: one line on stderr. */
export function stderrLine(io: { stderr: { write(text: string): unknown } }): (text: string) => void {
  return (text) => void io.stderr.write(`edgetrain: ${text}\n`);
}
