import { Elysia } from "elysia";
import type { Health } from "../contract.ts";

/** Liveness for systemd, load balancers and `curl`: no token, no details. */
export const healthRoutes = new Elysia({ name: "routes/health" }).get("/health", (): Health => ({ status: "ok" }));
