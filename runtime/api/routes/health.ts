import { Elysia } from "elysia";
import type { Health, Readiness } from "../contract.ts";
import type { DaemonView } from "../daemon-view.ts";
import { operation } from "../openapi-operation.ts";

/** Liveness for systemd, load balancers and `curl` (no token, no details), and readiness (a read like any other). */
export const healthRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/health", tags: ["daemon"] })
    .get("/health", (): Health => ({ status: "ok" }), {
      detail: operation("Whether the daemon answers", "Health", { access: "open" }),
    })
    .get(
      "/ready",
      async ({ set }): Promise<Readiness> => {
        const readiness = await view.ready();
        if (!readiness.ready) set.status = 503;
        return readiness;
      },
      {
        detail: operation(
          "Whether it can serve, known without loading a model: the state open, every serving version loadable",
          "Readiness",
          {
            access: "token_unless_loopback",
            errors: { 503: "Not ready: the reason says what." },
          },
        ),
      },
    );
