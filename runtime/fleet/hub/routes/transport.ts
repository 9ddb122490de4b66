import { Elysia } from "elysia";
import * as v from "valibot";
import type { DeviceRegistered, ReportsAccepted } from "../../../api/fleet-contract.ts";
import { operation } from "../../../api/openapi-operation.ts";
import { bearerMatches } from "../../../api/token.ts";
import { EdgetrainError } from "../../../errors.ts";
import type { HeartbeatAnswer } from "../../protocol.ts";
import { byteRange } from "../byte-range.ts";
import type { Hub } from "../hub.ts";

/**
 * What devices call: the HTTP transport (protocol.ts httpRoutes), for sites without a broker, with the
 * hub's device key as bearer; and the model file of an announcement, with the device's own download token.
 */
export const transportRoutes = (hub: Hub) => {
  const take = (kind: string, device: string, body: unknown, request: Request) => {
    if (!bearerMatches(request.headers.get("authorization"), hub.deviceKey)) {
      throw new EdgetrainError(
        "unauthorized",
        "a device needs the hub's device key: Authorization: Bearer <fleet.api_key>",
        { hint: "the key is the device.key file in the hub's home" },
      );
    }
    const refusal = hub.intake.take(kind, device, body, "http", Number(request.headers.get("content-length") ?? 0));
    if (refusal) throw new EdgetrainError("bad_input", `device ${device}: ${refusal}`, { details: { device } });
  };
  const Device = v.object({ device: v.string() });
  // Any JSON: intake checks it against the protocol after the device key, as it does a message over MQTT. Declared
  // so that the hub's JSON body rule (api/json-body-rule.ts) and its document cover these routes.
  const Message = v.unknown();
  const refused = { 400: "A message that is not one, or names another device." };
  return new Elysia({ name: "fleet/transport", tags: ["transport"] })
    .post(
      "/api/v1/edge-devices/register",
      ({ body, request }): DeviceRegistered => {
        const device =
          typeof body === "object" && body !== null && typeof (body as { device?: unknown }).device === "string"
            ? (body as { device: string }).device
            : "";
        take("info", device, body, request);
        return { registered: true, device };
      },
      {
        body: Message,
        detail: operation("Register a device (the body: its info)", "DeviceRegistered", {
          access: "device",
          errors: refused,
        }),
      },
    )
    .post(
      "/api/v1/edge-devices/:device/heartbeat",
      ({ params, body, request }): HeartbeatAnswer => {
        take("heartbeat", params.device, body, request);
        return { pending: hub.rollouts.pendingFor(params.device), commands: hub.commands.takePending(params.device) };
      },
      {
        params: Device,
        body: Message,
        detail: operation("A device's heartbeat; the answer lists what waits for it", "HeartbeatAnswer", {
          access: "device",
          errors: refused,
        }),
      },
    )
    .post(
      "/api/v1/edge-devices/:device/reports",
      ({ params, body, request }): ReportsAccepted => {
        take("reports", params.device, body, request);
        return { accepted: true };
      },
      {
        params: Device,
        body: Message,
        detail: operation("A device's reports: update outcomes, command results, runs", "ReportsAccepted", {
          access: "device",
          errors: refused,
        }),
      },
    )
    .get(
      "/v1/fleet/files/:model/:version",
      ({ params, query, request }) => {
        const version = Number(params.version);
        const { token, device } = query;
        if (!token || !device || !hub.keys.downloadTokenMatches(token, device, params.model, version)) {
          throw new EdgetrainError(
            "unauthorized",
            `no valid download token of device ${device} for version ${params.version} of model ${params.model}`,
          );
        }
        const file = hub.files.get(params.model, version);
        if (!file)
          throw new EdgetrainError("not_found", `the hub has no version ${params.version} of model ${params.model}`);
        const headers: Record<string, string> = {
          "accept-ranges": "bytes",
          etag: `"${file.sha256}"`,
          "content-type": "application/octet-stream",
        };
        const range = byteRange(request.headers.get("range"), file.size);
        if (range === "unsatisfiable")
          return new Response(null, { status: 416, headers: { ...headers, "content-range": `bytes */${file.size}` } });
        if (!range) return new Response(Bun.file(file.file), { headers });
        return new Response(Bun.file(file.file).slice(range.start, range.end + 1), {
          status: 206,
          headers: { ...headers, "content-range": `bytes ${range.start}-${range.end}/${file.size}` },
        });
      },
      {
        // Checked by the handler: a request without them is unauthorized, like one with wrong ones.
        query: v.object({ device: v.optional(v.string()), token: v.optional(v.string()) }),
        params: v.object({ model: v.string(), version: v.pipe(v.string(), v.regex(/^\d+$/)) }),
        detail: operation(
          "Download a model file announced to the device; Range resumes",
          { media: "application/octet-stream", description: "The ONNX file, or the range asked (206)." },
          { access: "download", errors: { 404: "No such version.", 416: "A range past the end." } },
        ),
      },
    );
};
