import { Elysia } from "elysia";
import * as v from "valibot";
import type { DaemonView } from "../daemon-view.ts";
import { ModelName, PredictBody } from "./schemas.ts";

/** `POST /v1/predict/:name`: the active version's answer, from the cache where it can. */
export const predictRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/predict" }).post("/v1/predict/:name", ({ params, body }) => view.predict(params.name, body), {
    params: v.object({ name: ModelName }),
    body: PredictBody,
    // Named, the parser reads the body at once; inferred, Elysia first asks for `request.body`, a stream per request.
    parse: "json",
  });
