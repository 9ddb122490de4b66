const STOP_SIGNALS = ["SIGINT", "SIGTERM"] as const;

/**
 * Aborts on SIGINT (a person's Ctrl-C) or SIGTERM (kill, timeout(1), systemd stopping a unit), so that a
 * run in progress is recorded as cancelled and its lock and half-written files go, instead of the process
 * dying mid-run. `reason` makes the abort's reason from the signal's name. Returns what stops listening.
 */
export function abortOnStopSignals(abort: AbortController, reason: (signal: string) => unknown): () => void {
  const handlers = STOP_SIGNALS.map((signal) => {
    const handler = () => abort.abort(reason(signal));
    process.once(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
