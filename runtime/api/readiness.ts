import type { Serving } from "../serving/serving.ts";
import type { StateDatabase } from "../state/database.ts";
import type { DaemonView } from "./daemon-view.ts";

/** `GET /ready`: the state database answers and every serving version loads. */
export async function readiness(
  state: StateDatabase,
  serving: Pick<Serving, "store" | "service">,
): ReturnType<DaemonView["ready"]> {
  try {
    state.db.query("SELECT 1").get();
  } catch (error) {
    return { ready: false, reason: `the state database does not answer: ${(error as Error).message}` };
  }
  const { store, service } = serving;
  for (const summary of store.list()) {
    if (summary.active === undefined) continue;
    // Loads the session where it is not loaded yet: ready means the next prediction does not wait for a load.
    const problem = await service.signature(summary.model).then(
      () => undefined,
      (error: Error) => error.message,
    );
    if (problem) return { ready: false, reason: `model ${summary.model}: ${problem}` };
  }
  return { ready: true };
}
