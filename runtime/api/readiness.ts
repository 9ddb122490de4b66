import type { Serving } from "../serving/serving.ts";
import type { StateDatabase } from "../state/database.ts";
import type { DaemonView } from "./daemon-view.ts";

/**
 * `GET /ready`: the state database answers and every serving version can answer, judged from what is known
 * without loading one (serving-readiness.ts); with a model, that model's serving version alone.
 */
export async function readiness(
  state: StateDatabase,
  serving: Pick<Serving, "readiness">,
  model?: string,
): ReturnType<DaemonView["ready"]> {
  try {
    state.db.query("SELECT 1").get();
  } catch (error) {
    return { ready: false, reason: `the state database does not answer: ${(error as Error).message}` };
  }
  const problem = await (model === undefined ? serving.readiness.problem() : serving.readiness.modelProblem(model));
  return problem ? { ready: false, reason: problem } : { ready: true };
}
