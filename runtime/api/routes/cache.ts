import { Elysia } from "elysia";
import * as v from "valibot";
import type { CacheCleared } from "../contract.ts";
import type { DaemonView } from "../daemon-view.ts";
import { ModelName } from "./schemas.ts";

/** `GET /v1/cache` (stats) and `DELETE /v1/cache[?model=NAME]`. */
export const cacheRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/cache" })
    .get("/v1/cache", () => view.cacheStats())
    .delete(
      "/v1/cache",
      ({ query }) => {
        view.clearCache(query.model);
        return { cleared: query.model ?? "all" } satisfies CacheCleared;
      },
      { query: v.object({ model: v.optional(ModelName) }) },
    );
