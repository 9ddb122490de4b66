import { type openapi, toOpenAPISchema } from "@elysiajs/openapi";
import { toJsonSchema, toJsonSchemaDefs } from "@valibot/to-json-schema";
import type { AnyElysia } from "elysia";
import * as fleetResponses from "./fleet-response-schemas.ts";
import { TAGS } from "./openapi-operation.ts";
import * as responses from "./response-schemas.ts";

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

/** The version the plugin writes by default. */
const OPENAPI_VERSION = "3.1.2";

/** What differs between the daemon's document and the hub's. */
interface ApiDescription {
  title: string;
  description: string;
  tags: Record<string, string>;
  answers: Parameters<typeof toJsonSchemaDefs>[0];
  securitySchemes: SecuritySchemes;
  /** Whether a body schema is read as JSON only (runtime/api/json-body-rule.ts), not as the form types too. */
  jsonBodiesOnly?: boolean;
}

const DAEMON_API: ApiDescription = {
  title: "edgetrain API",
  description:
    "Training runs, models, predictions and events of one edgetrain daemon. Errors are {code, message, hint?, " +
    "...details}.",
  tags: TAGS,
  answers: responses,
  jsonBodiesOnly: true,
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
  jsonBodiesOnly: true,
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

/** The daemon's or the hub's API, as `runtime/api/openapi-route.ts` names it. */
export const APIS = { daemon: DAEMON_API, hub: HUB_API };

/**
 * The OpenAPI 3.1 document of the app's routes, built from their schemas, as the OpenAPI plugin of Elysia
 * builds it; `GET /openapi` loads this module the first time it is asked (runtime/api/openapi-route.ts).
 */
export function openapiDocument(app: AnyElysia, version: string, api: ApiDescription) {
  const documentation = {
    info: { title: api.title, description: api.description, version },
    tags: Object.entries(api.tags).map(([name, description]) => ({ name, description })),
    security: [{ bearer: [] }],
    components: { securitySchemes: api.securitySchemes, schemas: componentSchemas(api.answers) },
  };
  const { paths, components } = toOpenAPISchema(app, undefined, undefined, { valibot: requestSchema });
  return {
    ...documentation,
    openapi: OPENAPI_VERSION,
    paths: api.jsonBodiesOnly ? jsonBodiesOnly(paths) : { ...paths },
    components: {
      ...documentation.components,
      schemas: { ...components.schemas, ...documentation.components.schemas },
    },
  };
}

type Paths = ReturnType<typeof toOpenAPISchema>["paths"];

/**
 * The paths with each JSON request body offered as `application/json` alone, and its 415: the plugin also offers a
 * schema's body as a form, which the daemon and the hub refuse. A body of another type (a model file) stays as it is.
 */
function jsonBodiesOnly(paths: Paths): Paths {
  const operations = Object.values(paths).flatMap((item) => Object.values(item ?? {}));
  for (const operation of operations as JsonOperation[]) {
    const body = operation.requestBody;
    const json = body?.content?.["application/json"];
    if (!body || !json) continue;
    body.content = { "application/json": json };
    operation.responses ??= {};
    operation.responses[415] ??= {
      description: "A body sent as another type than application/json (a form, text/plain) or as none.",
      content: { "application/json": { schema: { $ref: "#/components/schemas/ErrorBody" } } },
    };
  }
  return { ...paths };
}

interface JsonOperation {
  requestBody?: { content?: Record<string, unknown> };
  responses?: Record<string, unknown>;
}
