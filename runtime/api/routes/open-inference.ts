import { Elysia } from "elysia";
import * as v from "valibot";
import { modelMetadata } from "../../serving/open-inference.ts";
import { VERSION } from "../../version.ts";
import type { Readiness, V2InferResponse, V2ModelMetadata, V2ModelReady, V2ServerMetadata } from "../contract.ts";
import type { DaemonView } from "../daemon-view.ts";
import { operation } from "../openapi-operation.ts";
import { ModelName } from "./schemas.ts";

const Params = v.object({ name: ModelName });
const NOT_READY = 503;

const InferBody = v.object({
  id: v.optional(v.string()),
  parameters: v.optional(v.record(v.string(), v.unknown())),
  inputs: v.pipe(
    v.array(
      v.object({
        name: v.string(),
        shape: v.array(v.pipe(v.number(), v.integer("a whole number"), v.minValue(0, "a size of 0 or more"))),
        datatype: v.string(),
        parameters: v.optional(v.record(v.string(), v.unknown())),
        data: v.array(v.unknown()),
      }),
    ),
    v.minLength(1, "at least one input"),
  ),
  outputs: v.optional(
    v.array(v.object({ name: v.string(), parameters: v.optional(v.record(v.string(), v.unknown())) })),
  ),
});

/**
 * The Open Inference Protocol (KServe v2) over the serving versions, so that clients of Triton and KServe
 * work unchanged: server health and metadata, model metadata and readiness, and inference. Errors keep
 * edgetrain's body and add the protocol's `error` field (app.ts).
 */
export const openInferenceRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/open-inference", tags: ["predictions"] })
    .get("/v2", (): V2ServerMetadata => ({ name: "edgetrain", version: VERSION, extensions: [] }), {
      detail: operation("Open Inference Protocol: the server's name and version", "V2ServerMetadata", {
        access: "token_unless_loopback",
      }),
    })
    .get("/v2/health/live", (): Readiness => ({ ready: true }), {
      detail: operation("Open Inference Protocol: whether the daemon answers", "Readiness", {
        access: "token_unless_loopback",
      }),
    })
    .get(
      "/v2/health/ready",
      async ({ set }) => {
        const readiness = await view.ready();
        if (!readiness.ready) set.status = NOT_READY;
        return readiness;
      },
      {
        detail: operation("Open Inference Protocol: as /ready, whether every serving version can answer", "Readiness", {
          access: "token_unless_loopback",
          errors: { 503: "Not ready: the reason says what." },
        }),
      },
    )
    .get(
      "/v2/models/:name",
      async ({ params }): Promise<V2ModelMetadata> => {
        const { version, signature } = await view.modelSignature(params.name);
        return modelMetadata(params.name, version, signature);
      },
      {
        params: Params,
        detail: operation(
          "Open Inference Protocol: a model's inputs and outputs, with datatypes and shapes",
          "V2ModelMetadata",
          {
            access: "token_unless_loopback",
            errors: {
              400: "Not a model name.",
              404: "No such model, or none of its versions serves.",
              503: "The serving version's file does not load.",
            },
          },
        ),
      },
    )
    .get(
      "/v2/models/:name/ready",
      async ({ params, set }): Promise<V2ModelReady> => {
        // An unknown model is 404, as on the other model routes; a known one that does not serve is not ready.
        const { ready } = await view.ready(params.name);
        if (!ready) set.status = NOT_READY;
        return { name: params.name, ready };
      },
      {
        params: Params,
        detail: operation("Open Inference Protocol: whether the model's serving version can answer", "V2ModelReady", {
          access: "token_unless_loopback",
          errors: {
            400: "Not a model name.",
            404: "No such model.",
            503: "Not ready: no version serves, or it does not load.",
          },
        }),
      },
    )
    .post("/v2/models/:name/infer", ({ params, body }): Promise<V2InferResponse> => view.infer(params.name, body), {
      params: Params,
      body: InferBody,
      parse: "json",
      detail: operation("Open Inference Protocol: run the serving version on named tensors", "V2InferResponse", {
        access: "token_unless_loopback",
        errors: {
          400: "Tensors that do not fit the model (name, datatype, shape, values): the message names the input.",
          404: "No such model, or none of its versions serves.",
          503: "The serving version's file does not load on this machine.",
        },
      }),
    });
