import { Elysia } from "elysia";
import type { DaemonView } from "../daemon-view.ts";

/** `GET /v1/status`: what the daemon is, runs and knows; later issues add readings, queue, models, cache. */
export const statusRoutes = (view: DaemonView) => new Elysia({ name: "routes/status" }).get("/v1/status", () => view.status());
