import { Elysia } from "elysia";
import * as v from "valibot";
import type { LogList } from "../contract.ts";
import type { DaemonView } from "../daemon-view.ts";
import { WholeNumberQuery } from "./schemas.ts";

/** `GET /v1/profile` (resolved, with origins, secrets masked) and `GET /v1/logs?limit=&level=&job=`. */
export const profileAndLogRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/profile-logs" })
    .get("/v1/profile", () => view.profile())
    .get("/v1/logs", ({ query }): LogList => ({ lines: view.logs({ limit: query.limit ?? 200, level: query.level, job: query.job }) }), {
      query: v.object({
        limit: v.optional(WholeNumberQuery(5000)),
        level: v.optional(v.picklist(["debug", "info", "warn", "error"], "debug, info, warn or error")),
        job: v.optional(v.pipe(v.string(), v.maxLength(200))),
      }),
    });
