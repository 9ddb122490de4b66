import { Elysia } from "elysia";
import type { DaemonView } from "../daemon-view.ts";
import { operation } from "../openapi-operation.ts";

/**
 * `GET /v1/status`: what the daemon is, runs and knows: readings, governor, queue, runs, models, cache, disk.
 * `GET /v1/history`: the readings of the last hour, averaged into steps, for a client that just attached.
 */
export const statusRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/status", tags: ["daemon"] })
    .get("/v1/status", () => view.status(), {
      detail: operation("What the daemon is, runs and knows", "DaemonStatus", { access: "token_unless_loopback" }),
    })
    .get("/v1/history", () => view.history(), {
      detail: operation("CPU, memory, GPU and temperature over the last hour", "ResourceHistory", {
        access: "token_unless_loopback",
      }),
    });
