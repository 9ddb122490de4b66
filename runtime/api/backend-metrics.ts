import { DaemonMetrics } from "../metrics/daemon-metrics.ts";
import { runSeconds } from "../state/runs.ts";
import { activeVersions } from "../state/served-models.ts";
import type { BackendParts } from "./daemon-backend.ts";
import type { DaemonStatus } from "./daemon-view.ts";

/** The daemon's Prometheus metrics (`GET /metrics`), read from its status, the state database and the bus. */
export function backendMetrics(parts: BackendParts, status: () => DaemonStatus): DaemonMetrics {
  const { services, state } = parts;
  return new DaemonMetrics({
    status,
    diskUsage: () => parts.disk.usage(),
    runSeconds: (id) => runSeconds(state.db, id, Date.now()),
    activeVersions: () => activeVersions(state.db),
    subscribe: (listener) => services.bus.subscribe(listener),
  });
}
