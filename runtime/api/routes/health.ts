import { Elysia } from "elysia";
import type { Health } from "../contract.ts";
import { operation } from "../openapi.ts";

/** Liveness for systemd, load balancers and `curl`: no token, no details. */
export const healthRoutes = new Elysia({ name: "routes/health", tags: ["daemon"] }).get("/health", (): Health => ({ status: "ok" }), {
  detail: operation("Whether the daemon answers", "Health", { access: "open" }),
});
