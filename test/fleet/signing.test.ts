import { describe, expect, test } from "bun:test";
import * as v from "valibot";
import { ModelAnnouncement, parseTopic, topics } from "../../runtime/fleet/protocol.ts";
import { canonicalJson, generateHubKey, signMessage, trustedKey, verifyMessage } from "../../runtime/fleet/signing.ts";

const announcement = {
  type: "model.announce" as const,
  device: "orin-7",
  rollout: "r1",
  model: "player_1",
  version: 4,
  size: 1234,
  sha256: "a".repeat(64),
  url: "http://127.0.0.1:9000/v1/fleet/files/r1/player_1?token=t",
  task: "classification" as const,
  feature_names: ["hr", "speed"],
  classes: ["rest", "run"],
  issued_at: "2026-12-04T05:00:00.000Z",
};

describe("fleet signatures", () => {
  const hub = generateHubKey().keys;
  const trusted = [trustedKey(hub.publicKey)!];

  test("a signed announcement verifies against the hub's printed key, in any field order", () => {
    const signed = signMessage(announcement, hub);
    expect(v.safeParse(ModelAnnouncement, signed).success).toBe(true);
    const reordered = Object.fromEntries(Object.entries(signed).reverse());
    expect(verifyMessage(reordered, trusted)).toBe(true);
  });

  test("a changed field, hash, missing or foreign signature does not verify", () => {
    const signed = signMessage(announcement, hub);
    expect(verifyMessage({ ...signed, version: 5 }, trusted)).toBe(false);
    expect(verifyMessage({ ...signed, sha256: "b".repeat(64) }, trusted)).toBe(false);
    expect(verifyMessage({ ...signed, signature: "" }, trusted)).toBe(false);
    expect(verifyMessage({ ...signed, signature: "not base64 at all" }, trusted)).toBe(false);
    const stranger = generateHubKey().keys;
    expect(verifyMessage(signMessage(announcement, stranger), trusted)).toBe(false);
  });

  test("trust entries that are not ed25519 public keys are refused", () => {
    expect(trustedKey("ssh-ed25519 AAAA")).toBeUndefined();
    expect(trustedKey(`ed25519:${Buffer.alloc(16).toString("base64")}`)).toBeUndefined();
  });

  test("canonical JSON sorts keys at every level and leaves out undefined", () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}',
    );
  });

  test("topics carry the device id as their own level", () => {
    expect(parseTopic(topics.model("orin-7", "player_1"))).toEqual({
      device: "orin-7",
      kind: "models",
      model: "player_1",
    });
    expect(parseTopic(topics.heartbeat("orin-7"))).toEqual({ device: "orin-7", kind: "heartbeat" });
    expect(parseTopic("other/orin-7/heartbeat")).toBeUndefined();
  });
});
