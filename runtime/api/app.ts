import { Elysia } from "elysia";
import { EdgetrainError } from "../errors.ts";
import { isDiskFull } from "../files/disk-full.ts";
import { silentLogger } from "../log/logger.ts";
import type { Logger } from "../plugin-api.ts";
import { VERSION } from "../version.ts";
import { corsHeaders, corsPath, isPreflight, originAllowed } from "./cors.ts";
import type { DaemonView } from "./daemon-view.ts";
import { JsonBodyRule } from "./json-body-rule.ts";
import { apiDocument } from "./openapi-route.ts";
import { AccessRules, hostAllowed, normalisedPath } from "./request-access.ts";
import { cacheRoutes } from "./routes/cache.ts";
import { conflictRoutes } from "./routes/conflicts.ts";
import { eventRoutes } from "./routes/events.ts";
import { healthRoutes } from "./routes/health.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { metricsRoutes } from "./routes/metrics.ts";
import { modelRoutes } from "./routes/models.ts";
import { openInferenceRoutes } from "./routes/open-inference.ts";
import { predictRoutes } from "./routes/predict.ts";
import { profileAndLogRoutes } from "./routes/profile-logs.ts";
import { statusRoutes } from "./routes/status.ts";
import { bearerMatches } from "./token.ts";

/**
 * Composes the route groups and the rules every request passes: body size, token, errors as JSON, no stack traces.
 * `logger` gets each unexpected error, stack included, since the 500's body sends the user to the daemon log.
 */
export function createApp(view: DaemonView, logger: Logger = silentLogger) {
  // Made from the route table once every group is added, below: before any request can come.
  let access: AccessRules;
  let jsonBody: JsonBodyRule;
  /** Whether the token rule lets `method path` in now; a stream opened earlier asks again, as tokens change. */
  const admitted = (method: string, path: string, authorization: string | null) =>
    !access.needsToken(method, path, view.exposed()) || bearerMatches(authorization, view.token());
  const app = new Elysia({
    serve: {
      // Bun's own limit only backs ours up: it answers 413 without a word, so the profile's limit is checked first,
      // below.
      maxRequestBodySize: Math.max(view.maxBodyBytes() * 4, 64 * 1024 * 1024),
      idleTimeout: 30,
      // Elysia shares the port by default: a second daemon (another home) would start and answer half the requests.
      reusePort: false,
      // Elysia serves in development mode unless NODE_ENV=production; our errors are JSON either way.
      development: false,
    },
  })
    .use(apiDocument(VERSION))
    .onRequest(({ request, set }) => {
      view.requestSeen();
      const exposed = view.exposed();
      const host = request.headers.get("host");
      if ((!exposed || view.allowedHosts().length > 0) && !hostAllowed(host, view.allowedHosts())) {
        set.status = 403;
        return {
          code: "forbidden_host",
          message:
            `Host ${JSON.stringify(host)} is not this daemon's: it answers loopback names and ` +
            `api.allowed_hosts only`,
        };
      }
      const normalised = normalisedPath(request.url);
      if ("refused" in normalised) {
        set.status = 400;
        return { code: "bad_request", message: `${request.method} ${pathOf(request.url)}: ${normalised.refused}` };
      }
      const { path } = normalised;
      if (corsPath(path)) {
        const origin = request.headers.get("origin");
        const preflight = isPreflight(request);
        Object.assign(set.headers, corsHeaders(origin, view.corsOrigins(), preflight));
        // Browsers send a preflight without credentials; it is answered here and reaches no route.
        if (preflight) {
          const headers = set.headers as Record<string, string>;
          if (originAllowed(origin, view.corsOrigins())) return new Response(null, { status: 204, headers });
          set.status = 403;
          return { code: "forbidden_origin", message: `Origin ${JSON.stringify(origin)} is not in api.cors_origins` };
        }
      }
      if (!admitted(request.method, path, request.headers.get("authorization"))) {
        set.status = 401;
        set.headers["www-authenticate"] = "Bearer";
        return {
          code: "unauthorized",
          message:
            `${request.method} ${path} needs the API token: Authorization: Bearer <api.token, or the home's ` +
            `api.token file>`,
        };
      }
      const length = Number(request.headers.get("content-length") ?? 0);
      // A chunked body has no length to check; asking for `request.body` instead would make a stream per request.
      if (request.headers.has("transfer-encoding") && !request.headers.has("content-length")) {
        set.status = 411;
        return {
          code: "length_required",
          message:
            `${request.method} ${path}: send the body with a Content-Length (at most api.max_body_kb, ` +
            `${view.maxBodyBytes() / 1024} KiB)`,
        };
      }
      if (length > view.maxBodyBytes()) {
        set.status = 413;
        return {
          code: "too_large",
          message:
            `${request.method} ${path}: body of ${length} bytes is over api.max_body_kb ` +
            `(${view.maxBodyBytes() / 1024} KiB)`,
        };
      }
      jsonBody.check(request.method, path, request.headers);
    })
    .onError((context) => {
      const body = errorBody(context, logger);
      // The Open Inference Protocol's clients read the message from `error`.
      return pathOf(context.request.url).startsWith("/v2/") ? { ...body, error: body.message } : body;
    })
    .use(healthRoutes(view))
    .use(metricsRoutes(view))
    .use(statusRoutes(view))
    .use(jobRoutes(view))
    .use(modelRoutes(view))
    .use(predictRoutes(view))
    .use(openInferenceRoutes(view))
    .use(cacheRoutes(view))
    .use(eventRoutes(view, (request) => admitted("GET", "/v1/events", request.headers.get("authorization"))))
    .use(profileAndLogRoutes(view))
    .use(conflictRoutes(view));
  access = new AccessRules(app.routes);
  jsonBody = new JsonBodyRule(app.routes);
  return app;
}

export type App = ReturnType<typeof createApp>;

/** The error body of a failed request, its status set: edgetrain's own errors by code, the framework's by kind. */
interface FailedRequest {
  code: unknown;
  error: unknown;
  set: { status?: number | string };
  request: Request;
}

type ErrorJson = { code: string; message: string; [detail: string]: unknown };

function errorBody({ code, error, set, request }: FailedRequest, logger: Logger): ErrorJson {
  const path = pathOf(request.url);
  if (error instanceof EdgetrainError) {
    set.status = error.httpStatus;
    return error.toJSON();
  }
  if (isDiskFull(error)) {
    set.status = 507;
    return {
      code: "disk_full",
      message: `${request.method} ${path}: the disk of the home is full; see edgetrain status`,
    };
  }
  if (code === "NOT_FOUND") {
    set.status = 404;
    return { code: "not_found", message: `no route ${request.method} ${path}` };
  }
  if (code === "VALIDATION") {
    set.status = 400;
    return { code: "bad_request", message: `${request.method} ${path}: ${validationMessage(error)}` };
  }
  if (code === "PARSE") {
    set.status = 400;
    return { code: "bad_request", message: `${request.method} ${path}: the body is not valid JSON` };
  }
  if (code === "INVALID_COOKIE_SIGNATURE" || code === "INVALID_FILE_TYPE") {
    set.status = 400;
    return { code: "bad_request", message: `${request.method} ${path}: malformed request` };
  }
  set.status = 500;
  logger.error(`${request.method} ${path} failed`, { method: request.method, path, ...errorFields(error) });
  return { code: "internal", message: `${request.method} ${path} failed; see the daemon log` };
}

/** An unexpected error for the log: its words and, for a bug to be found, where it was thrown. */
function errorFields(error: unknown): { error: string; stack?: string } {
  if (!(error instanceof Error)) return { error: String(error) };
  return error.stack ? { error: `${error.name}: ${error.message}`, stack: error.stack } : { error: error.message };
}

/** The path of a request target as sent, without its query, for messages: origin-form or absolute. */
function pathOf(url: string): string {
  const scheme = url.startsWith("/") ? -1 : url.indexOf("://");
  const start = scheme === -1 ? 0 : url.indexOf("/", scheme + 3);
  if (start === -1) return "/";
  const query = url.indexOf("?", start);
  return query === -1 ? url.slice(start) : url.slice(start, query);
}

interface IssuePathItem {
  key?: unknown;
}

interface Issue {
  message?: string;
  path?: IssuePathItem[] | string;
  expected?: string;
  received?: string;
  issues?: Issue[];
}

/**
 * Of a union that failed, the issue of the option that got furthest into the value (the first on a tie):
 * the one that names the field. Its path is relative to the union's, so the two are joined.
 */
function deepestIssue(issue: Issue): Issue {
  if (!issue.issues?.length) return issue;
  const pathOf = (item: Issue) => (Array.isArray(item.path) ? item.path : []);
  const best = issue.issues.map(deepestIssue).reduce((a, b) => (pathOf(b).length > pathOf(a).length ? b : a));
  // A union of options that all failed at its own value says more than any one of them.
  if (pathOf(best).length === 0) return issue;
  return { ...best, path: [...pathOf(issue), ...pathOf(best)] };
}

/** Names the field: `body.inputs[0][1]: a number (got "x")`, from valibot's issue path. */
function validationMessage(error: unknown): string {
  const e = error as { type?: string; valueError?: Issue };
  const where = e.type ?? "body";
  if (!e.valueError) return `invalid ${where}`;
  const issue = deepestIssue(e.valueError);
  let field = where;
  if (Array.isArray(issue.path))
    for (const item of issue.path) field += typeof item.key === "number" ? `[${item.key}]` : `.${String(item.key)}`;
  else if (typeof issue.path === "string" && issue.path) field += issue.path.replaceAll("/", ".");
  // valibot says "Invalid key" both of a field that is missing and of one that is not expected.
  const message = issue.message?.startsWith("Invalid key")
    ? issue.received === "undefined"
      ? "missing"
      : where === "query"
        ? "unknown parameter"
        : "unknown field"
    : (issue.message ?? "invalid");
  return `${field}: ${message}`;
}
