import { Elysia } from "elysia";
import * as v from "valibot";
import type { DaemonView } from "../daemon-view.ts";
import { operation } from "../openapi-operation.ts";
import { ModelName, PredictBody } from "./schemas.ts";

/** `POST /v1/predict/:name`: the active version's answer, from the cache where it can. */
export const predictRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/predict", tags: ["predictions"] }).post(
    "/v1/predict/:name",
    ({ params, body }) => view.predict(params.name, body),
    {
      params: v.object({ name: ModelName }),
      body: PredictBody,
      // Named, the parser reads the body at once; inferred, Elysia first asks for `request.body`, a stream per request.
      parse: "json",
      detail: operation("Predict with the serving version", "Prediction", {
        access: "token_unless_loopback",
        errors: {
          400: "Not a model name, or rows that do not fit the model: the message names the row and the feature.",
          404: "No such model, or none of its versions serves.",
          503: "The serving version's file does not load on this machine.",
        },
      }),
    },
  );
