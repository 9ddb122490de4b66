import { Elysia } from "elysia";
import * as v from "valibot";
import type {
  FleetCommand,
  FleetCommandState,
  FleetRollout,
  FleetRolloutDetail,
  FleetRolloutList,
} from "../../../api/fleet-contract.ts";
import { operation } from "../../../api/openapi-operation.ts";
import { EdgetrainError } from "../../../errors.ts";
import { CommandName } from "../../protocol.ts";
import type { Hub } from "../hub.ts";
import { previousVersion } from "../rollback.ts";
import { DEFAULT_PLAN } from "../rollout-plan.ts";

const Share = v.pipe(v.number(), v.minValue(0), v.maxValue(1));

const RolloutBody = v.strictObject({
  model: v.string(),
  /** Default: the newest version the hub has. */
  version: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  group: v.optional(v.string()),
  /** Cumulative shares, ascending, the last 1 (checked by the route: a check has no JSON Schema form). */
  waves: v.optional(v.pipe(v.array(Share), v.minLength(1))),
  max_failures: v.optional(Share),
  wave_timeout_ms: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
});

/** Rollouts (start, follow, pause, resume, abort), rollbacks and commands to devices. */
export const rolloutRoutes = (hub: Hub) =>
  new Elysia({ name: "fleet/rollouts", tags: ["rollouts"] })
    .get("/v1/fleet/rollouts", (): FleetRolloutList => ({ rollouts: hub.rollouts.list() }), {
      detail: operation("Rollouts, newest first, with their progress", "FleetRolloutList", {
        access: "token_unless_loopback",
      }),
    })
    .post(
      "/v1/fleet/rollouts",
      ({ body, set }): FleetRollout => {
        const file =
          body.version === undefined ? hub.files.latest(body.model) : hub.files.get(body.model, body.version);
        if (!file) {
          const what =
            body.version === undefined ? `model ${body.model}` : `version ${body.version} of model ${body.model}`;
          throw new EdgetrainError("not_found", `the hub has no ${what}`, {
            hint: "upload it first: edgetrain hub publish MODEL FILE.onnx",
          });
        }
        const waves = body.waves ?? DEFAULT_PLAN.waves;
        if (waves.at(-1) !== 1 || waves.some((share, i) => i > 0 && share <= waves[i - 1]!))
          throw new EdgetrainError("bad_input", "POST /v1/fleet/rollouts: waves must be ascending shares ending at 1");
        const plan = {
          waves,
          maxFailures: body.max_failures ?? DEFAULT_PLAN.maxFailures,
          waveTimeoutMs: body.wave_timeout_ms ?? DEFAULT_PLAN.waveTimeoutMs,
        };
        set.status = 201;
        return hub.rollouts.start(file, plan, { group: body.group });
      },
      {
        body: RolloutBody,
        detail: operation("Roll a model version out to the devices in waves", "FleetRollout", {
          status: 201,
          errors: { 400: "A plan that is not one.", 404: "No such model or version at the hub." },
        }),
      },
    )
    .get(
      "/v1/fleet/rollouts/:id",
      ({ params }): FleetRolloutDetail => {
        const rollout = hub.rollouts.get(params.id);
        if (!rollout)
          throw new EdgetrainError("not_found", `no rollout "${params.id}"`, { details: { rollout: params.id } });
        return { ...rollout, devices: hub.rollouts.targets(params.id) };
      },
      {
        params: v.object({ id: v.string() }),
        detail: operation("One rollout, with each device's wave and state", "FleetRolloutDetail", {
          access: "token_unless_loopback",
          errors: { 404: "No such rollout." },
        }),
      },
    )
    .post(
      "/v1/fleet/rollouts/:id/:action",
      ({ params, body }): FleetRollout => {
        const maxFailures = body?.max_failures;
        if (maxFailures !== undefined && params.action !== "resume")
          throw new EdgetrainError(
            "bad_input",
            `POST /v1/fleet/rollouts/:id/${params.action}: max_failures goes with resume alone`,
          );
        if (params.action === "pause") return hub.rollouts.pause(params.id);
        if (params.action === "resume") return hub.rollouts.resume(params.id, maxFailures);
        return hub.rollouts.abort(params.id);
      },
      {
        params: v.object({
          id: v.string(),
          action: v.picklist(["pause", "resume", "abort"], "pause, resume or abort"),
        }),
        /** resume: a new failure limit, to go on past the failures that halted it. */
        body: v.optional(v.strictObject({ max_failures: v.optional(Share) })),
        detail: operation("Pause, resume or abort a rollout", "FleetRollout", {
          errors: {
            400: "Not pause, resume or abort.",
            404: "No such rollout.",
            409: "A rollout that has ended, or a halted one still past its failure limit.",
          },
        }),
      },
    )
    .post(
      "/v1/fleet/rollbacks",
      ({ body, set }): FleetRollout => {
        const file = previousVersion(hub, body.model, body.group);
        set.status = 201;
        // Taking a version back is urgent: one wave, every device at once.
        return hub.rollouts.start(
          file,
          { waves: [1], maxFailures: 1, waveTimeoutMs: DEFAULT_PLAN.waveTimeoutMs },
          { group: body.group, kind: "rollback" },
        );
      },
      {
        body: v.strictObject({ model: v.string(), group: v.optional(v.string()) }),
        detail: operation("Announce a model's previous version to every device at once", "FleetRollout", {
          status: 201,
          errors: { 404: "No such model.", 409: "No version rolled out before the one the group runs." },
        }),
      },
    )
    .post(
      "/v1/fleet/commands",
      ({ body, set }): FleetCommand => {
        set.status = 201;
        return hub.commands.issue(body.device, body.command, body.args ?? {});
      },
      {
        body: v.strictObject({
          device: v.string(),
          command: CommandName,
          args: v.optional(v.record(v.string(), v.unknown())),
        }),
        detail: operation("Send a signed command to a device: train, activate, rollback or logs", "DeviceCommand", {
          status: 201,
          errors: { 400: "Not a command.", 404: "No such device." },
        }),
      },
    )
    .get(
      "/v1/fleet/commands/:id",
      ({ params }): FleetCommandState => {
        const command = hub.commands.get(params.id);
        if (!command)
          throw new EdgetrainError("not_found", `no command "${params.id}"`, { details: { command: params.id } });
        return command;
      },
      {
        params: v.object({ id: v.string() }),
        detail: operation("A command and the device's result", "FleetCommandState", {
          access: "token_unless_loopback",
          errors: { 404: "No such command." },
        }),
      },
    );
