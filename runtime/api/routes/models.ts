import { Elysia } from "elysia";
import * as v from "valibot";
import type { ModelActivated, ModelList, ModelRolledBack } from "../contract.ts";
import type { DaemonView } from "../daemon-view.ts";
import { ModelName } from "./schemas.ts";

const Params = v.object({ name: ModelName });
const VERSION_NUMBER = "a version number (1, 2, …), as `edgetrain model NAME` lists them";

/** `GET /v1/models`, `GET /v1/models/:name`, `POST /v1/models/:name/activate` ({version}), `POST /v1/models/:name/rollback`. */
export const modelRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/models" })
    .get("/v1/models", (): ModelList => ({ models: view.models() }))
    .get("/v1/models/:name", ({ params }) => view.model(params.name), { params: Params })
    .post("/v1/models/:name/activate", async ({ params, body }): Promise<ModelActivated> => ({ activated: await view.activate(params.name, body.version) }), {
      params: Params,
      body: v.strictObject({ version: v.pipe(v.number(VERSION_NUMBER), v.integer(VERSION_NUMBER), v.minValue(1, VERSION_NUMBER)) }),
    })
    .post("/v1/models/:name/rollback", async ({ params }): Promise<ModelRolledBack> => ({ active: await view.rollback(params.name) }), { params: Params });
