import * as v from "valibot";
import { positiveInt } from "./numeric-fields.ts";

const doc = v.description;

const CONTROL_NAMES: Record<string, string> = { "\n": "a newline", "\r": "a carriage return", "\t": "a tab" };

/**
 * Why a token could never match a request's `Authorization: Bearer …`, in words that do not show it: the
 * header cannot carry a control character, and its value is read without the spaces at its ends. Such a
 * token (often a newline left by `echo` into the variable) would lock every client out.
 */
export function tokenFlaw(token: string): string | undefined {
  const characters = [...token];
  const at = characters.findIndex((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  if (at >= 0) {
    const code = characters[at]!.charCodeAt(0);
    const name = CONTROL_NAMES[characters[at]!] ?? `control character U+${code.toString(16).padStart(4, "0")}`;
    return `it holds ${name} at character ${at + 1} of ${characters.length}`;
  }
  if (token.trimStart() !== token) return "it starts with whitespace";
  if (token.trimEnd() !== token) return "it ends with whitespace";
  return undefined;
}

/** The profile's `api:` section (part of runtime/config/schema.ts): where and how the HTTP API listens. */
export const Api = v.strictObject({
  host: v.optional(
    v.pipe(v.string(), doc("Address to listen on. Anything but loopback requires `token`.")),
    "127.0.0.1",
  ),
  port: v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535), doc("TCP port; 0 picks a free one.")),
    8470,
  ),
  token: v.optional(
    v.pipe(
      v.string(),
      v.minLength(16, "a token of at least 16 characters"),
      v.check(
        (token) => tokenFlaw(token) === undefined,
        (issue) =>
          `a token with no control character and no whitespace at its ends (no request could send it as ` +
          `Authorization: Bearer): ${tokenFlaw(issue.input as string)}`,
      ),
      doc(
        "Bearer token: at least 16 characters, no control characters, no whitespace at either end; use " +
          "`${EDGETRAIN_TOKEN}` rather than writing it here.",
      ),
    ),
  ),
  allowed_hosts: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.regex(/^[a-z0-9.:[\]-]+$/i, "a host name or address, with an optional :port"))),
      doc(
        "Host header values answered besides loopback names (a name that resolves to this device, e.g. for a reverse " +
          "proxy). On a loopback bind any other Host gets 403, against DNS rebinding; on another bind the list is " +
          "checked only when set.",
      ),
    ),
    [],
  ),
  cors_origins: v.optional(
    v.pipe(
      v.array(v.pipe(v.string(), v.regex(/^https?:\/\/[a-z0-9.:[\]-]+$/i, "an origin: scheme, host, optional port"))),
      doc(
        "Browser origins (a dashboard's page, e.g. `https://dash.example.com`) allowed to read /v1 answers and " +
          "/v1/events across origins (CORS). Empty: none. The token rule still applies.",
      ),
    ),
    [],
  ),
  max_body_kb: v.optional(
    positiveInt(
      "Largest request body accepted; the default carries max_rows rows of up to about 60 features written in full.",
    ),
    8192,
  ),
  max_rows: v.optional(positiveInt("Rows one predict request may carry."), 10_000),
  event_buffer: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(0),
      v.maxValue(100_000),
      doc(
        "Newest events kept for /v1/events clients that reconnect with Last-Event-ID; an older id gets a " +
          "`reset` event. 0 keeps none.",
      ),
    ),
    1000,
  ),
});
