import { Elysia } from "elysia";
import type { DaemonView } from "../daemon-view.ts";
import { operation } from "../openapi.ts";

/** `GET /v1/status`: what the daemon is, runs and knows: readings, governor, queue, runs, models, cache, disk. */
export const statusRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/status", tags: ["daemon"] }).get("/v1/status", () => view.status(), {
    detail: operation("What the daemon is, runs and knows", "DaemonStatus", { access: "token_unless_loopback" }),
  });
