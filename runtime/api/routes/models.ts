import { networkInterfaces } from "node:os";
import { Elysia } from "elysia";
import * as v from "valibot";
import { EdgetrainError } from "../../errors.ts";
import type { ModelActivated, ModelImported, ModelList, ModelRolledBack } from "../contract.ts";
import type { DaemonView } from "../daemon-view.ts";
import { operation } from "../openapi-operation.ts";
import { isLoopback } from "../token.ts";
import { ImportQuery, importRequest } from "./model-import-query.ts";
import { ModelName, NoBody, NoQuery } from "./schemas.ts";

const Params = v.object({ name: ModelName });
const VERSION_NUMBER = "a version number (1, 2, …), as `edgetrain model NAME` lists them";

/**
 * `GET /v1/models`, `GET /v1/models/:name`, `POST /v1/models/:name/activate` ({version}), `POST
 * /v1/models/:name/rollback`.
 */
export const modelRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/models", tags: ["models"] })
    .get("/v1/models", (): ModelList => ({ models: view.models() }), {
      detail: operation("Models, with the serving version of each", "ModelList", { access: "token_unless_loopback" }),
    })
    .get("/v1/models/:name", ({ params }) => view.model(params.name), {
      params: Params,
      detail: operation("One model's versions, metrics and gate results", "ModelDetail", {
        access: "token_unless_loopback",
        errors: { 400: "Not a model name.", 404: "No such model." },
      }),
    })
    .post(
      "/v1/models/:name/activate",
      async ({ params, body }): Promise<ModelActivated> => ({
        activated: await view.activate(params.name, body.version),
      }),
      {
        params: Params,
        query: NoQuery,
        body: v.strictObject({
          version: v.pipe(v.number(VERSION_NUMBER), v.integer(VERSION_NUMBER), v.minValue(1, VERSION_NUMBER)),
        }),
        detail: operation("Serve a version (loaded and health-checked first)", "ModelActivated", {
          errors: {
            400: "Not a model name or a version number, or a parameter or field it does not take.",
            404: "No such model or version.",
            422: "The version's file is damaged, does not load or fails its health check (model_not_loadable).",
          },
        }),
      },
    )
    .post(
      "/v1/models/:name/versions",
      async ({ params, query, request, body, set, server }): Promise<ModelImported> => {
        const file = new Uint8Array(body as ArrayBuffer);
        const asked = importRequest(params.name, query, request.headers, file);
        if (asked.featuresFrom !== undefined) refuseFilesFromAfar(server?.requestIP(request)?.address);
        const imported = await view.importModel(params.name, asked);
        set.status = 201;
        return imported;
      },
      {
        params: Params,
        query: ImportQuery,
        parse: "arrayBuffer",
        detail: {
          ...operation("Import an ONNX file from any framework as the next version", "ModelImported", {
            status: 201,
            errors: {
              400:
                "Not a model name, metadata that does not fit the model (features, classes, task) or a parameter it " +
                "does not take, or no file.",
              413: "The file is over api.max_body_kb.",
              422:
                "Not an ONNX model, cut short, an opset or operator this ONNX Runtime lacks, or it fails its health " +
                "rows: " +
                "nothing was stored.",
            },
          }),
          requestBody: {
            required: true,
            description: "The ONNX file, as it is.",
            content: { "application/octet-stream": { schema: { type: "string", format: "binary" } } },
          },
        },
      },
    )
    .post(
      "/v1/models/:name/rollback",
      async ({ params }): Promise<ModelRolledBack> => ({ active: await view.rollback(params.name) }),
      {
        params: Params,
        query: NoQuery,
        body: NoBody,
        detail: operation("Go back to the version that served before", "ModelRolledBack", {
          errors: {
            400: "Not a model name, or a parameter or body field it does not take.",
            404: "No such model, or none serves.",
            409: "No intact earlier version to go back to.",
          },
        }),
      },
    );

/** This machine's own addresses: the CLI reaches a daemon bound to one of them from that address, not loopback. */
function ownAddresses(): Set<string> {
  return new Set(
    Object.values(networkInterfaces())
      .flat()
      .flatMap((address) => (address ? [address.address] : [])),
  );
}

/**
 * features_from names a file on the device, read by the daemon: a client elsewhere, even with the token, must not
 * be able to read the device's files through it (a refusal quotes the file's first line).
 */
function refuseFilesFromAfar(peer: string | undefined): void {
  const address = peer?.replace(/^::ffff:/, "");
  if (address !== undefined && (isLoopback(address) || ownAddresses().has(address))) return;
  throw new EdgetrainError(
    "bad_input",
    "features_from names a file on the device: only a client on the device itself may send it, " +
      `not ${address ?? "an unknown peer"}`,
    { details: { field: "features_from" }, hint: "send the feature names with features= instead" },
  );
}
