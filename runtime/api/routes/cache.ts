import { Elysia } from "elysia";
import * as v from "valibot";
import type { CacheCleared, CacheWarmed } from "../contract.ts";
import type { DaemonView } from "../daemon-view.ts";
import { operation } from "../openapi-operation.ts";
import { ModelName, NoBody } from "./schemas.ts";

/** `GET /v1/cache` (stats), `DELETE /v1/cache[?model=NAME]` and `POST /v1/cache/warm[?model=NAME]`. */
export const cacheRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/cache", tags: ["predictions"] })
    .get("/v1/cache", () => view.cacheStats(), {
      detail: operation("The prediction cache's counts", "CacheStats", { access: "token_unless_loopback" }),
    })
    .delete(
      "/v1/cache",
      ({ query }) => {
        view.clearCache(query.model);
        return { cleared: query.model ?? "all" } satisfies CacheCleared;
      },
      {
        query: v.strictObject({ model: v.optional(ModelName) }),
        body: NoBody,
        detail: operation("Clear the cache, of one model or all", "CacheCleared", {
          errors: { 400: "Not a model name, or a parameter or body field it does not take.", 404: "No such model." },
        }),
      },
    )
    .post("/v1/cache/warm", async ({ query }): Promise<CacheWarmed> => view.warmCache(query.model), {
      query: v.strictObject({ model: v.optional(ModelName) }),
      body: NoBody,
      detail: operation("Pregenerate the predictions of one model, or of all that serve", "CacheWarmed", {
        errors: {
          400: "Not a model name, or a parameter or body field it does not take.",
          404: "No such model serves.",
        },
      }),
    });
