import { isLoopback } from "./token.ts";

/** A request path in the one form access rules are decided on, or why it has none. */
export type NormalisedPath = { path: string } | { refused: string };

/**
 * The path of a request target, whatever its form: origin-form (`/v1/x`, what an HTTP/1.0 request with no
 * Host leaves in `request.url`), absolute-form or a full URL. Decoded once; doubled and trailing slashes
 * removed; `.` and `..` segments refused rather than resolved, since no route has them.
 */
export function normalisedPath(url: string): NormalisedPath {
  let raw: string;
  if (url.startsWith("/")) raw = url;
  else {
    const scheme = url.indexOf("://");
    if (scheme === -1) return { refused: "the request target is not a path" };
    const start = url.indexOf("/", scheme + 3);
    raw = start === -1 ? "/" : url.slice(start);
  }
  const end = raw.search(/[?#]/);
  if (end !== -1) raw = raw.slice(0, end);
  let decoded: string;
  try {
    decoded = decodeURIComponent(raw);
  } catch {
    return { refused: "the path has a malformed percent-encoding" };
  }
  if (decoded.includes("\\") || decoded.includes("\0")) return { refused: "the path holds a backslash or a NUL" };
  const segments = decoded.split("/").filter((segment) => segment !== "");
  if (segments.some((segment) => segment === "." || segment === ".."))
    return { refused: "the path holds a . or .. segment" };
  return { path: `/${segments.join("/")}` };
}

export interface Route {
  method: string;
  path: string;
}

/**
 * Which requests may skip the token. Everything else needs it (fail closed): a route is open only when it
 * is listed here, so a new route, method or path form needs the token until someone decides otherwise.
 */
export class AccessRules {
  private readonly alwaysOpen = [patternOf("/health")];
  /** A prediction changes nothing, so loopback clients may ask without the token (an Open Inference one too). */
  private readonly predict = ["/v1/predict/:name", "/v2/models/:name/infer"].map(patternOf);
  private readonly reads: RegExp[];
  private readonly anyRoute: RegExp[];

  /** `routes`: the app's own route table; its GET routes are the reads a loopback client may make. */
  constructor(routes: readonly Route[]) {
    this.reads = routes.filter((route) => route.method === "GET").map((route) => patternOf(route.path));
    this.anyRoute = routes.map((route) => patternOf(route.path));
  }

  /** Whether `method path` (a normalised path) needs the bearer token on a loopback (`exposed` false) or other bind. */
  needsToken(method: string, path: string, exposed: boolean): boolean {
    const read = method === "GET" || method === "HEAD";
    if (read && this.alwaysOpen.some((pattern) => pattern.test(path))) return false;
    if (exposed) return true;
    if (read) {
      if (this.reads.some((pattern) => pattern.test(path))) return false;
      // No route of any method answers this path: there is nothing to protect, and a 404 says more than a 401.
      return this.anyRoute.some((pattern) => pattern.test(path));
    }
    return !(method === "POST" && this.predict.some((pattern) => pattern.test(path)));
  }
}

/** `/v1/models/:name` as a whole-path pattern; routes are matched case-sensitively, as the router does. */
export function patternOf(route: string): RegExp {
  const source = route
    .split("/")
    .map((segment) => (segment.startsWith(":") ? "[^/]+" : segment.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")))
    .join("/");
  return new RegExp(`^${source}$`);
}

/**
 * A web page can point its own domain at 127.0.0.1 (DNS rebinding) and read a loopback API; its requests
 * still carry that domain as Host. So a loopback daemon answers only loopback names and `api.allowed_hosts`.
 */
export function hostAllowed(hostHeader: string | null, allowedHosts: readonly string[]): boolean {
  // HTTP/1.0 clients may send no Host; a browser always sends one.
  if (hostHeader === null) return true;
  const host = hostName(hostHeader.trim().toLowerCase());
  if (host === undefined) return false;
  if (isLoopback(host) || host === "localhost." || host.endsWith(".localhost")) return true;
  return allowedHosts.some((allowed) => {
    const wanted = allowed.trim().toLowerCase();
    return wanted === host || wanted === hostHeader.trim().toLowerCase();
  });
}

/** The name or address of a Host header, without its port; undefined when it is not one. */
function hostName(header: string): string | undefined {
  if (header.startsWith("[")) {
    const close = header.indexOf("]");
    if (close === -1) return undefined;
    const rest = header.slice(close + 1);
    if (rest !== "" && !/^:\d{1,5}$/.test(rest)) return undefined;
    return header.slice(1, close);
  }
  const match = /^([^:/\s@]+)(?::\d{1,5})?$/.exec(header);
  return match?.[1];
}
