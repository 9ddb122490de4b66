import * as v from "valibot";

const doc = v.description;
const Port = (what: string, port: number) =>
  v.optional(
    v.pipe(v.number(), v.integer(), v.minValue(0), v.maxValue(65535), doc(`${what}; 0 picks a free one.`)),
    port,
  );

/**
 * The profile's `hub:` section (part of runtime/config/schema.ts): how `edgetrain hub` runs (docs/fleet.md).
 * Its flags win over these; a daemon ignores the section.
 */
export const Hub = v.strictObject({
  database: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^postgres(ql)?:\/\//, "a postgres:// URL"),
      doc(
        "PostgreSQL to hold the registry and its heartbeats, postgres://user:${PASSWORD}@host/db; " +
          "default the hub.db SQLite of the hub's home.",
      ),
    ),
  ),
  keep_days: v.optional(
    v.pipe(
      v.number(),
      v.integer(),
      v.minValue(1),
      doc("Days of heartbeats kept; past the first day one a minute per device."),
    ),
    7,
  ),
  host: v.optional(v.pipe(v.string(), doc("Where the hub's API listens.")), "127.0.0.1"),
  port: Port("The hub's API port", 8471),
  public_url: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^https?:\/\//, "an http:// or https:// URL"),
      doc("Where devices download models from, when not the API's address (a proxy, a NAT)."),
    ),
  ),
  broker: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^mqtts?:\/\//, "an mqtt:// or mqtts:// URL"),
      doc("An MQTT broker to use (Mosquitto, EMQX); left out, the hub starts its own on loopback."),
    ),
  ),
  broker_user: v.optional(
    v.pipe(v.string(), doc("The hub's user at `broker`; its password comes from EDGETRAIN_BROKER_PASSWORD.")),
  ),
  broker_port: Port("The embedded broker's port on 127.0.0.1", 1883),
});

export type HubConfig = v.InferOutput<typeof Hub>;
