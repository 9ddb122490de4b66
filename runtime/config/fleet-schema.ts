import * as v from "valibot";
import { Duration } from "./duration.ts";

const doc = v.description;

/** The profile's `fleet:` section (part of runtime/config/schema.ts): this device in a fleet (docs/fleet.md). */
export const Fleet = v.strictObject({
  device_id: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, "letters, digits, _ . - only"),
      doc(
        "This device's id in the fleet; default a stable id hashed from /etc/machine-id (else the first MAC " +
          "address), the same after a reinstall.",
      ),
    ),
  ),
  name: v.optional(v.pipe(v.string(), doc("Name shown at the hub; default the host name."))),
  location: v.optional(v.pipe(v.string(), doc("Where the device stands, shown at the hub."))),
  groups: v.optional(v.pipe(v.array(v.string()), doc("Groups a rollout can target.")), []),
  transport: v.optional(
    v.pipe(
      v.picklist(["mqtt", "http"]),
      doc("mqtt: a broker (`broker`); http: a hub's HTTP routes (`url`, `api_key`) for sites without one."),
    ),
    "mqtt",
  ),
  broker: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^mqtts?:\/\//, "an mqtt:// or mqtts:// URL"),
      doc("The MQTT broker, mqtt://host:1883 or mqtts://host:8883."),
    ),
  ),
  ca: v.optional(
    v.pipe(v.string(), doc("PEM file of the CA that signed the broker's certificate (mqtts); relative to home.")),
  ),
  cert: v.optional(v.pipe(v.string(), doc("PEM client certificate for the broker; relative to home."))),
  key: v.optional(v.pipe(v.string(), doc("PEM private key of `cert`; relative to home."))),
  username: v.optional(v.pipe(v.string(), doc("Broker user name; default the device id."))),
  password: v.optional(
    v.pipe(
      v.string(),
      doc("Broker password; use `${EDGETRAIN_FLEET_PASSWORD}` rather than writing it here. Never logged or shown."),
    ),
  ),
  url: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^https?:\/\//, "an http:// or https:// URL"),
      doc("The hub's base URL for transport http."),
    ),
  ),
  api_key: v.optional(
    v.pipe(v.string(), doc("Bearer key for transport http; use `${VARIABLE}`. Never logged or shown.")),
  ),
  heartbeat_interval: v.optional(
    v.pipe(Duration, doc("How often a heartbeat (resources, models, predictions) is sent; at most 2 KB each.")),
    "30s",
  ),
  trust: v.optional(
    v.pipe(
      v.array(
        v.pipe(v.string(), v.regex(/^ed25519:[A-Za-z0-9+/=]{40,}$/, "ed25519:<base64>, as `edgetrain hub key` prints")),
      ),
      doc(
        "Hub public keys whose signatures on model announcements and commands are accepted; nothing unsigned " +
          "by one of them is applied or run.",
      ),
    ),
    [],
  ),
  auto_update: v.optional(
    v.pipe(
      v.boolean(),
      doc(
        "Deploy a verified model update at once (gate, activate); false: download and verify it, then wait " +
          "for `edgetrain activate`.",
      ),
    ),
    true,
  ),
  download_retry: v.optional(
    v.pipe(
      Duration,
      doc(
        "How long a model download that fails for a network reason (connection refused or cut, no byte for " +
          "60 s, a 5xx answer) is tried again with no byte received, waiting 5 s doubling to 5 min between " +
          "tries and resuming where it stopped; only then is the update reported failed. 0 tries once.",
      ),
    ),
    "1h",
  ),
  log_lines_per_s: v.optional(
    v.pipe(
      v.number(),
      v.minValue(0),
      doc("Live log lines of a run forwarded to the hub per second at most; more are counted and dropped."),
    ),
    20,
  ),
});

export type FleetConfig = v.InferOutput<typeof Fleet>;
