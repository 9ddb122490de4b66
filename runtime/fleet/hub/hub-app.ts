import { Elysia } from "elysia";
import type { HubHealth } from "../../api/fleet-contract.ts";
import { JsonBodyRule } from "../../api/json-body-rule.ts";
import { operation } from "../../api/openapi-operation.ts";
import { apiDocument } from "../../api/openapi-route.ts";
import { AccessRules, hostAllowed, normalisedPath } from "../../api/request-access.ts";
import { bearerMatches, isLoopback } from "../../api/token.ts";
import { EdgetrainError } from "../../errors.ts";
import { VERSION } from "../../version.ts";
import type { Hub } from "./hub.ts";
import { deviceRoutes } from "./routes/devices.ts";
import { rolloutRoutes } from "./routes/rollouts.ts";
import { scoreRoutes } from "./routes/scores.ts";
import { transportRoutes } from "./routes/transport.ts";

/** Model uploads (`edgetrain hub publish`) are the only large bodies. */
const MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;
const MAX_BODY_BYTES = 1024 * 1024;

/** Routes that answer devices: they check the device key or a download token themselves, never the API token. */
const DEVICE_PATHS = /^\/(api\/v1\/edge-devices\/|v1\/fleet\/files\/)/;
const UPLOAD_PATH = /^\/v1\/fleet\/models\/[^/]+$/;

/**
 * The hub's HTTP API: the same request rules as the daemon's (runtime/api/app.ts), from the same modules:
 * loopback Host names only unless it listens beyond loopback, the token for every change (for every
 * request beyond loopback), and a JSON body sent as application/json. Devices authenticate with the device key or
 * their download token instead.
 */
export function createHubApp(hub: Hub) {
  let access: AccessRules;
  let jsonBody: JsonBodyRule;
  const host = hub.options.host ?? "127.0.0.1";
  const exposed = !isLoopback(host);
  const app = new Elysia({
    serve: { maxRequestBodySize: MAX_UPLOAD_BYTES, idleTimeout: 30, reusePort: false, development: false },
  })
    .use(apiDocument(VERSION, "hub"))
    .onRequest(({ request, set }) => {
      if (!exposed && !hostAllowed(request.headers.get("host"), [])) {
        set.status = 403;
        return {
          code: "forbidden_host",
          message: `Host ${JSON.stringify(request.headers.get("host"))} is not this hub's: it answers loopback names`,
        };
      }
      const normalised = normalisedPath(request.url);
      if ("refused" in normalised) {
        set.status = 400;
        return { code: "bad_request", message: `${request.method}: ${normalised.refused}` };
      }
      const { path } = normalised;
      if (
        !DEVICE_PATHS.test(path) &&
        access.needsToken(request.method, path, exposed) &&
        !bearerMatches(request.headers.get("authorization"), hub.token)
      ) {
        set.status = 401;
        set.headers["www-authenticate"] = "Bearer";
        return {
          code: "unauthorized",
          message: `${request.method} ${path} needs the hub's API token: Bearer <hub.token of the hub's home>`,
        };
      }
      const length = Number(request.headers.get("content-length") ?? 0);
      const limit = request.method === "POST" && UPLOAD_PATH.test(path) ? MAX_UPLOAD_BYTES : MAX_BODY_BYTES;
      if (length > limit) {
        set.status = 413;
        return {
          code: "too_large",
          message: `${request.method} ${path}: body of ${length} bytes is over ${limit} bytes`,
        };
      }
      jsonBody.check(request.method, path, request.headers);
    })
    .onError(({ code, error, set, request }) => {
      const path = new URL(request.url, "http://hub").pathname;
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
        const issue = (error as { valueError?: { message?: string; path?: unknown } }).valueError;
        const why = code === "PARSE" ? "the body is not JSON" : (issue?.message ?? "invalid");
        return {
          code: "bad_request",
          message: `${request.method} ${path}: ${why}`,
        };
      }
      set.status = 500;
      hub.options.logger.error("hub request failed", { method: request.method, path, error: String(error) });
      return { code: "internal", message: `${request.method} ${path} failed; see the hub's log` };
    })
    .get("/health", (): HubHealth => ({ ok: true }), {
      detail: { tags: ["hub"], ...operation("Whether the hub answers", "HubHealth", { access: "open" }) },
    })
    .get(
      "/metrics",
      async () => {
        const { contentType, text } = await hub.metrics.text();
        return new Response(text, { headers: { "content-type": contentType } });
      },
      {
        detail: {
          tags: ["hub"],
          ...operation(
            "Devices online, heartbeats per second, rollout states, for Prometheus",
            { media: "text/plain", description: "Prometheus text exposition format 0.0.4." },
            { access: "token_unless_loopback" },
          ),
        },
      },
    )
    .use(deviceRoutes(hub))
    .use(rolloutRoutes(hub))
    .use(scoreRoutes(hub))
    .use(transportRoutes(hub));
  access = new AccessRules(app.routes);
  jsonBody = new JsonBodyRule(app.routes);
  return app;
}

export type HubApp = ReturnType<typeof createHubApp>;
