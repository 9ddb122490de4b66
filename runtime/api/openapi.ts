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
    paths: { ...paths },
    components: {
      ...documentation.components,
      schemas: { ...components.schemas, ...documentation.components.schemas },
    },
  };
}
