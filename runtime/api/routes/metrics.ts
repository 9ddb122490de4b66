import { Elysia } from "elysia";
import type { DaemonView } from "../daemon-view.ts";

/** `GET /metrics`: Prometheus text format, for scrapers; read-only like /health. */
export const metricsRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/metrics" }).get("/metrics", async () => {
    const { contentType, text } = await view.metrics();
    return new Response(text, { headers: { "content-type": contentType } });
  });
