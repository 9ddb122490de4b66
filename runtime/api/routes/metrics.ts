import { Elysia } from "elysia";
import type { DaemonView } from "../daemon-view.ts";
import { operation } from "../openapi-operation.ts";

/** `GET /metrics`: Prometheus text format, for scrapers; read-only like /health. */
export const metricsRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/metrics", tags: ["daemon"] }).get(
    "/metrics",
    async () => {
      const { contentType, text } = await view.metrics();
      return new Response(text, { headers: { "content-type": contentType } });
    },
    {
      detail: operation(
        "Counters and gauges for Prometheus",
        { media: "text/plain", description: "Prometheus text exposition format 0.0.4." },
        { access: "token_unless_loopback" },
      ),
    },
  );
