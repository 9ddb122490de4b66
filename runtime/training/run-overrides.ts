import type { Logger } from "../plugin-api.ts";

/**
 * What a person may tell one run to ignore: `edgetrain train --ignore-governor`, `--ignore-conflicts`,
 * `--force` (both), or the same over `POST /v1/jobs/:name/run`.
 */
export interface RunOverrides {
  /** Neither admitted nor paused by the governor (nor held for off-peak windows). */
  ignoreGovernor?: boolean;
  /** Trains, and its deploy steps write their files, while the job's live predictors run. */
  ignoreConflicts?: boolean;
}

/** The overrides asked for by flags: `force` is both. */
export function runOverrides(flags: RunOverrides & { force?: boolean }): RunOverrides {
  return {
    ignoreGovernor: Boolean(flags.force || flags.ignoreGovernor),
    ignoreConflicts: Boolean(flags.force || flags.ignoreConflicts),
  };
}

/** `ignoring the governor and conflicts`, or undefined when nothing is ignored. */
export function ignoredInWords(overrides: RunOverrides): string | undefined {
  const { ignoreGovernor, ignoreConflicts } = overrides;
  const ignored = [ignoreGovernor && "the governor", ignoreConflicts && "conflicts"].filter(Boolean);
  return ignored.length ? `ignoring ${ignored.join(" and ")}` : undefined;
}

/**
 * Says loudly, for each run of a key, what it ignores: a run that may freeze the host or overwrite files a
 * predictor reads should never pass unnoticed in the log.
 */
export function warnOverrides(logger: Logger, job: string, key: string | undefined, overrides: RunOverrides): void {
  const what = `job ${job}${key !== undefined ? ` for ${key}` : ""}`;
  if (overrides.ignoreGovernor) {
    logger.warn(`IGNORING THE GOVERNOR: ${what} trains without admission and is never paused, however busy the host`);
  }
  if (overrides.ignoreConflicts) {
    logger.warn(`IGNORING CONFLICTS: ${what} trains and writes its files even while its live predictors run`);
  }
}
