import { messageOf } from "../errors.ts";
import type { Logger } from "../plugin-api.ts";

const HISTORY_SWEEP_DELAY_MS = 30_000;
const DAY_MS = 24 * 3600 * 1000;

/** Pending copies are tried every conflicts.check_interval: written as soon as their predictors go quiet. */
export function retryCopies(retry: () => void, intervalMs: () => number, logger: Logger): () => void {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const next = () => {
    timer = setTimeout(() => {
      try {
        retry();
      } catch (error) {
        logger.warn("could not retry the pending file copies", { error: messageOf(error) });
      }
      next();
    }, intervalMs());
  };
  next();
  return () => clearTimeout(timer);
}

/** Old run folders, run records and events go soon after start (not in its way) and then once a day. */
export function startHistorySweeps(sweepHistory: () => void, logger: Logger): () => void {
  const sweep = () => {
    try {
      sweepHistory();
    } catch (error) {
      logger.warn("could not remove old history", { error: messageOf(error) });
    }
  };
  const first = setTimeout(sweep, HISTORY_SWEEP_DELAY_MS);
  const daily = setInterval(sweep, DAY_MS);
  return () => {
    clearTimeout(first);
    clearInterval(daily);
  };
}
