import { openapi } from "@elysiajs/openapi";
import { toJsonSchema, toJsonSchemaDefs } from "@valibot/to-json-schema";
import type { DocumentDecoration } from "elysia";
import * as fleetResponses from "./fleet-response-schemas.ts";
import * as responses from "./response-schemas.ts";

/** The document's sections; each route group names its own. */
export const TAGS = {
  daemon: "Health, status, metrics, the resolved profile and the log.",
  jobs: "Jobs, and their runs: queue one, follow it, cancel, pause or resume it.",
  models: "Models and their versions: activate one, roll back.",
  predictions: "Answers of the serving versions, and their cache.",
  conflicts: "Questions to a person when a run meets a live predictor.",
  events: "Everything the daemon does, as server-sent events.",
} as const;

/** An answer's schema, by its name under components.schemas. */
export type AnswerSchema = Exclude<keyof typeof responses, "ErrorBody">;
/** The answers of the fleet hub's API (runtime/fleet/hub/hub-app.ts). */
export type FleetAnswerSchema = keyof typeof fleetResponses;

type Operation = DocumentDecoration;
type Responses = NonNullable<Operation["responses"]>;

/**
 * Who may call a route: anyone (/health), loopback clients without the token (reads, predictions), or only
 * with it; on the hub, devices with the device key, or with the download token of their announcement.
 */
export type Access = "open" | "token_unless_loopback" | "token" | "device" | "download";

const ACCESS: Record<Access, { security?: Operation["security"]; note: string }> = {
  open: { security: [], note: "Needs no token, on any bind." },
  // `{}` is the alternative of no credentials at all.
  token_unless_loopback: {
    security: [{ bearer: [] }, {}],
    note: "Needs the token only when the daemon listens beyond loopback.",
  },
  // The document's own requirement applies.
  token: { note: "Needs the token." },
  device: { security: [{ device: [] }], note: "For devices: needs the hub's device key (their fleet.api_key)." },
  download: {
    security: [{ download: [] }],
    note: "For devices: needs the download token of the device's announcement (its url carries it).",
  },
};

const ERROR = { $ref: "#/components/schemas/ErrorBody" };

/**
 * A route's OpenAPI operation: what it answers on success (a schema, or raw content such as text), the
 * errors worth naming, and the error body for every other status.
 */
export function operation(
  summary: string,
  answer: AnswerSchema | FleetAnswerSchema | { media: string; description: string },
  options: { access?: Access; status?: number; errors?: Record<number, string> } = {},
): Operation {
  const access = ACCESS[options.access ?? "token"];
  const success: Responses[string] =
    typeof answer === "string"
      ? { description: answer, content: { "application/json": { schema: { $ref: `#/components/schemas/${answer}` } } } }
      : { description: answer.description, content: { [answer.media]: { schema: { type: "string" } } } };
  const errors: Responses = Object.fromEntries(
    Object.entries(options.errors ?? {}).map(([status, description]) => [
      status,
      { description, content: { "application/json": { schema: ERROR } } },
    ]),
  );
  const credential = options.access === "device" ? "device key" : "token";
  if (options.access !== "open") {
    errors[401] ??= {
      description: `The ${credential} is missing or wrong.`,
      content: { "application/json": { schema: ERROR } },
    };
  }
  return {
    summary,
    description: access.note,
    ...(access.security ? { security: access.security } : {}),
    responses: {
      [options.status ?? 200]: success,
      ...errors,
      default: {
        description:
          "Any other error: 403 a Host not answered, 411/413 a body without a length or too large, 507 a full disk, " +
          "500.",
        content: { "application/json": { schema: ERROR } },
      },
    },
  };
}

/** The answers' schemas as components; a schema used inside another becomes a `$ref`. */
function componentSchemas(answers: Parameters<typeof toJsonSchemaDefs>[0]): Record<string, object> {
  const defs = toJsonSchemaDefs(answers, { target: "draft-2020-12", errorMode: "throw" });
  return JSON.parse(JSON.stringify(defs).replaceAll('"#/$defs/', '"#/components/schemas/'));
}

/** Requests' params, queries and bodies as JSON Schema; a check without a JSON Schema form would warn here. */
function requestSchema(schema: Parameters<typeof toJsonSchema>[0]) {
  const { $schema: _dialect, ...converted } = toJsonSchema(schema, {
    target: "draft-2020-12",
    typeMode: "input",
    errorMode: "warn",
  });
  return converted;
}

type Documentation = NonNullable<NonNullable<Parameters<typeof openapi>[0]>["documentation"]>;
/** The plugin's own type for them (openapi-types, which it does not re-export). */
type SecuritySchemes = NonNullable<NonNullable<Documentation["components"]>["securitySchemes"]>;

/** What differs between the daemon's document and the hub's. */
interface ApiDescription {
  title: string;
  description: string;
  tags: Record<string, string>;
  answers: Parameters<typeof toJsonSchemaDefs>[0];
  securitySchemes: SecuritySchemes;
}

const DAEMON_API: ApiDescription = {
  title: "edgetrain API",
  description:
    "Training runs, models, predictions and events of one edgetrain daemon. Errors are {code, message, hint?, " +
    "...details}.",
  tags: TAGS,
  answers: responses,
  securitySchemes: {
    bearer: {
      type: "http",
      scheme: "bearer",
      description:
        "api.token of the profile, or the api.token file the daemon writes in its home. On a loopback bind only " +
        "changes need it; on any other bind every route but /health does.",
    },
  },
};

/** The fleet hub's document (`edgetrain hub`), from the same parts as the daemon's. */
export const HUB_API: ApiDescription = {
  title: "edgetrain fleet hub API",
  description:
    "Devices, model versions, rollouts and commands of one edgetrain hub, and the routes devices call. " +
    "Errors are {code, message, hint?, ...details}.",
  tags: {
    devices: "Devices, what they registered, their heartbeats and deployments, and model versions.",
    rollouts: "Rollouts in waves, rollbacks, and commands to devices.",
    scores: "What devices' score jobs predicted, per device and fleet-wide, for drift detection.",
    transport: "What devices call: the HTTP transport and model downloads.",
    hub: "Health and metrics.",
  },
  answers: { ErrorBody: responses.ErrorBody, ...fleetResponses },
  securitySchemes: {
    bearer: {
      type: "http",
      scheme: "bearer",
      description:
        "hub.token of the hub's home. On a loopback bind only changes need it; on any other bind every route " +
        "but /health does.",
    },
    device: {
      type: "http",
      scheme: "bearer",
      description: "device.key of the hub's home: the devices' fleet.api_key.",
    },
    download: {
      type: "apiKey",
      in: "query",
      name: "token",
      description: "The per-device download token in an announcement's url.",
    },
  },
};

/** `GET /openapi`: the OpenAPI 3.1 document of the routes, built from their schemas once all are added. */
export function apiDocument(version: string, api: ApiDescription = DAEMON_API) {
  return openapi({
    path: "/openapi",
    specPath: "/openapi",
    provider: null,
    mapJsonSchema: { valibot: requestSchema },
    documentation: {
      info: { title: api.title, version, description: api.description },
      tags: Object.entries(api.tags).map(([name, description]) => ({ name, description })),
      security: [{ bearer: [] }],
      components: { securitySchemes: api.securitySchemes, schemas: componentSchemas(api.answers) },
    },
  });
}
