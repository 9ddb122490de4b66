import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Elysia } from "elysia";
import * as v from "valibot";
import type {
  FleetDeviceDetail,
  FleetDeviceList,
  FleetLiveRuns,
  FleetModelList,
  FleetModelVersion,
} from "../../../api/fleet-contract.ts";
import { operation } from "../../../api/openapi-operation.ts";
import { EdgetrainError } from "../../../errors.ts";
import type { Hub } from "../hub.ts";

const Name = v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, "letters, digits, _ . - only"));
const Version = v.pipe(
  v.string(),
  v.regex(/^\d+$/, "a whole number"),
  v.transform(Number),
  v.minValue(1, "a version from 1"),
);

/** Devices (`GET /v1/fleet/devices`, `…/:id`) and model versions (`GET /v1/fleet/models`, upload, removal). */
export const deviceRoutes = (hub: Hub) =>
  new Elysia({ name: "fleet/devices", tags: ["devices"] })
    .get(
      "/v1/fleet/devices",
      ({ query }): FleetDeviceList => ({
        devices: hub.registry.devices({
          group: query.group,
          online: query.online === undefined ? undefined : query.online === "true",
          model: query.model,
          version: query.version,
          registered: query.registered === undefined ? undefined : query.registered === "true",
        }),
      }),
      {
        query: v.object({
          group: v.optional(v.string()),
          online: v.optional(v.picklist(["true", "false"], "true or false")),
          model: v.optional(v.string()),
          version: v.optional(Version),
          registered: v.optional(v.picklist(["true", "false"], "true or false")),
        }),
        detail: operation("Devices, by group, state or model version", "FleetDeviceList", {
          access: "token_unless_loopback",
          errors: { 400: "A filter that is not one." },
        }),
      },
    )
    .get(
      "/v1/fleet/devices/:id",
      async ({ params, query }): Promise<FleetDeviceDetail> => {
        const device = hub.registry.device(params.id);
        if (!device)
          throw new EdgetrainError("not_found", `no device "${params.id}" has registered with the hub`, {
            details: { device: params.id },
          });
        return {
          ...device,
          heartbeats: await hub.registry.heartbeats(params.id, query.heartbeats ?? 20),
          deployments: hub.rollouts.deployments(params.id),
        };
      },
      {
        params: v.object({ id: v.string() }),
        query: v.object({ heartbeats: v.optional(Version) }),
        detail: operation("One device: what it registered, latest heartbeats, deployments", "FleetDeviceDetail", {
          access: "token_unless_loopback",
          errors: { 404: "No such device." },
        }),
      },
    )
    .get("/v1/fleet/devices/:id/runs", ({ params }): FleetLiveRuns => ({ runs: hub.liveRuns.of(params.id) }), {
      params: v.object({ id: v.string() }),
      detail: operation("Runs training on the device now: heartbeat, checkpoints, log tail", "FleetLiveRuns", {
        access: "token_unless_loopback",
      }),
    })
    .get(
      "/v1/fleet/models",
      (): FleetModelList => {
        const running = hub.registry.db
          .query<{ model: string; version: number; n: number }, []>(
            "SELECT model, version, count(*) AS n FROM device_models GROUP BY model, version",
          )
          .all();
        const devicesOn = (model: string, version: number) =>
          running.find((row) => row.model === model && row.version === version)?.n ?? 0;
        return {
          models: hub.files
            .all()
            .map(({ file: _, ...version }) => ({ ...version, devices: devicesOn(version.model, version.version) })),
        };
      },
      {
        detail: operation("Every model version the hub has, with how many devices run it", "FleetModelList", {
          access: "token_unless_loopback",
        }),
      },
    )
    .post(
      "/v1/fleet/models/:name",
      async ({ params, query, request, set }): Promise<FleetModelVersion> => {
        const bytes = new Uint8Array(await request.arrayBuffer());
        if (bytes.length === 0)
          throw new EdgetrainError("bad_input", `POST /v1/fleet/models/${params.name}: send the ONNX file as the body`);
        const incoming = join(hub.options.home, "models", ".incoming");
        mkdirSync(incoming, { recursive: true });
        const file = join(incoming, `${params.name}-${process.pid}-${Date.now()}.onnx`);
        writeFileSync(file, bytes);
        try {
          const { file: _, ...added } = hub.files.add(params.name, file, hub.now(), query.version);
          set.status = 201;
          return added;
        } finally {
          rmSync(file, { force: true });
        }
      },
      {
        parse: "none",
        params: v.object({ name: Name }),
        query: v.object({ version: v.optional(Version) }),
        detail: operation("Take in an ONNX file (the body) as a model's next version", "FleetModelVersion", {
          status: 201,
          errors: { 400: "Not a model name, or a body that is no model file.", 409: "The version exists." },
        }),
      },
    )
    .delete(
      "/v1/fleet/models/:name/:version",
      ({ params }): FleetModelVersion => {
        const { file: _, ...removed } = hub.files.remove(params.name, params.version);
        return removed;
      },
      {
        params: v.object({ name: Name, version: Version }),
        detail: operation("Remove a model version that no rollout has named", "FleetModelVersion", {
          errors: { 404: "No such model version.", 409: "A rollout named it." },
        }),
      },
    );
