import { Elysia } from "elysia";
import { EdgetrainError } from "../errors.ts";
import { bearerMatches } from "./token.ts";
import type { DaemonView } from "./daemon-view.ts";
import { conflictRoutes } from "./routes/conflicts.ts";
import { healthRoutes } from "./routes/health.ts";
import { jobRoutes } from "./routes/jobs.ts";
import { statusRoutes } from "./routes/status.ts";

const MUTATING = new Set(["POST", "PUT", "PATCH", "DELETE"]);

/** Composes the route groups and the rules every request passes: token, errors as JSON, no stack traces. */
export function createApp(view: DaemonView) {
  return new Elysia()
    .onRequest(({ request, set }) => {
      view.requestSeen();
      const path = new URL(request.url).pathname;
      if (!path.startsWith("/v1/")) return;
      const token = view.token();
      const needsToken = MUTATING.has(request.method) || view.exposed();
      if (!needsToken) return;
      if (bearerMatches(request.headers.get("authorization"), token)) return;
      set.status = 401;
      set.headers["www-authenticate"] = "Bearer";
      return { code: "unauthorized", message: `${request.method} ${path} needs the API token: Authorization: Bearer <api.token, or the home's api.token file>` };
    })
    .onError(({ code, error, set, request }) => {
      const path = new URL(request.url).pathname;
      if (error instanceof EdgetrainError) {
        set.status = error.httpStatus;
        return error.toJSON();
      }
      if (code === "NOT_FOUND") {
        set.status = 404;
        return { code: "not_found", message: `no route ${request.method} ${path}` };
      }
      if (code === "VALIDATION" || code === "PARSE") {
        set.status = 400;
        return { code: "bad_request", message: `${request.method} ${path}: ${"message" in error ? String(error.message).split("\n")[0] : "malformed request"}` };
      }
      set.status = 500;
      return { code: "internal", message: `${request.method} ${path} failed; see the daemon log` };
    })
    .use(healthRoutes)
    .use(statusRoutes(view))
    .use(jobRoutes(view))
    .use(conflictRoutes(view));
}

export type App = ReturnType<typeof createApp>;
