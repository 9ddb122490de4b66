import { Elysia } from "elysia";
import * as v from "valibot";
import type { LogList } from "../contract.ts";
import type { DaemonView } from "../daemon-view.ts";
import { operation } from "../openapi-operation.ts";
import { WholeNumberQuery } from "./schemas.ts";

/** `GET /v1/profile` (resolved, with origins, secrets masked) and `GET /v1/logs?limit=&level=&job=`. */
export const profileAndLogRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/profile-logs", tags: ["daemon"] })
    .get("/v1/profile", () => view.profile(), {
      detail: operation("The resolved profile, each value with its origin", "ProfileText", {
        access: "token_unless_loopback",
      }),
    })
    .get(
      "/v1/logs",
      ({ query }): LogList => ({ lines: view.logs({ limit: query.limit ?? 200, level: query.level, job: query.job }) }),
      {
        query: v.object({
          limit: v.optional(WholeNumberQuery(5000)),
          level: v.optional(v.picklist(["debug", "info", "warn", "error"], "debug, info, warn or error")),
          job: v.optional(v.pipe(v.string(), v.maxLength(200))),
        }),
        detail: operation("The newest log lines, oldest first", "LogList", {
          access: "token_unless_loopback",
          errors: { 400: "A limit, level or job that is not one." },
        }),
      },
    );
