import { EdgetrainError, messageOf } from "../errors.ts";

/** The API cannot listen on this address: most often another program holds the port. */
export function cannotListen(host: string, port: number, error: unknown): EdgetrainError {
  return new EdgetrainError("unsafe_bind", `cannot listen on ${host}:${port}: ${messageOf(error)}`, {
    details: { host, port },
    hint: "choose another --port (--port 0 picks a free one), or stop what uses it",
  });
}

/**
 * Listens on the address and lets it go at once, so a command finds a taken port before it writes
 * anything. Port 0 (any free port) cannot be taken.
 */
export function checkCanListen(host: string, port: number): void {
  if (port === 0) return;
  try {
    Bun.serve({ hostname: host, port, fetch: () => new Response(null, { status: 503 }) }).stop(true);
  } catch (error) {
    throw cannotListen(host, port, error);
  }
}
