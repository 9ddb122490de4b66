import type { DocumentDecoration } from "elysia";
import type * as fleetResponses from "./fleet-response-schemas.ts";
import type * as responses from "./response-schemas.ts";

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
  options: { access?: Access; status?: number; alike?: Record<number, string>; errors?: Record<number, string> } = {},
): Operation {
  const access = ACCESS[options.access ?? "token"];
  const success: Responses[string] =
    typeof answer === "string"
      ? { description: answer, content: { "application/json": { schema: { $ref: `#/components/schemas/${answer}` } } } }
      : { description: answer.description, content: { [answer.media]: { schema: { type: "string" } } } };
  // Other successes with the same answer, such as 200 beside a 202.
  const alike: Responses = Object.fromEntries(
    Object.entries(options.alike ?? {}).map(([status, description]) => [status, { ...success, description }]),
  );
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
      ...alike,
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
