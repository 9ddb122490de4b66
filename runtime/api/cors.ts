/**
 * Cross-origin access for a browser dashboard: only the origins in `api.cors_origins`, only on `/v1`.
 * CORS lets a page read answers; it grants nothing: every request but the preflight itself still passes
 * the Host and token rules.
 */

/** The methods and request headers a listed origin may use (the preflight's answer). */
const METHODS = "GET, HEAD, POST, DELETE";
const HEADERS = "authorization, content-type, last-event-id";
/** How long a browser may keep a preflight's answer, in seconds. */
const MAX_AGE_S = 600;

/** Whether CORS applies to a path at all: the versioned API, events included. */
export function corsPath(path: string): boolean {
  return path === "/v1" || path.startsWith("/v1/");
}

/** A browser's preflight: OPTIONS with an Origin, asking whether a method may follow. */
export function isPreflight(request: Request): boolean {
  const { method, headers } = request;
  return method === "OPTIONS" && headers.has("origin") && headers.has("access-control-request-method");
}

/** Whether `origin` is one of the listed ones: scheme, host and port as the browser sends them, case aside. */
export function originAllowed(origin: string | null, allowed: readonly string[]): origin is string {
  if (origin === null) return false;
  const wanted = origin.trim().toLowerCase();
  return allowed.some((listed) => listed.trim().toLowerCase() === wanted);
}

/**
 * The headers an answer on a `/v1` path carries: `Vary: Origin` whenever origins are listed (a cache
 * must not hand one origin's answer to another), and the allowance when this request's origin is listed.
 */
export function corsHeaders(
  origin: string | null,
  allowed: readonly string[],
  preflight: boolean,
): Record<string, string> {
  if (allowed.length === 0) return {};
  if (!originAllowed(origin, allowed)) return { vary: "Origin" };
  const headers: Record<string, string> = { vary: "Origin", "access-control-allow-origin": origin };
  if (preflight) {
    headers["access-control-allow-methods"] = METHODS;
    headers["access-control-allow-headers"] = HEADERS;
    headers["access-control-max-age"] = String(MAX_AGE_S);
  }
  return headers;
}
