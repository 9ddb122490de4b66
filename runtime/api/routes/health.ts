import { Elysia } from "elysia";

/** Liveness for systemd, load balancers and `curl`: no token, no details. */
export const healthRoutes = new Elysia({ name: "routes/health" }).get("/health", () => ({ status: "ok" as const }));
