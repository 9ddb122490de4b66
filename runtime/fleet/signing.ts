import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign, verify } from "node:crypto";

/** The DER prefix of an ed25519 SubjectPublicKeyInfo: what precedes the raw 32-byte key. */
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const KEY_PREFIX = "ed25519:";

/** `ed25519:<base64 of the raw 32-byte public key>`: the form `edgetrain hub key` prints and `fleet.trust` lists. */
export type PublicKeyText = string;

export interface HubKeyPair {
  privateKey: KeyObject;
  publicKey: PublicKeyText;
}

export function generateHubKey(): { pem: string; keys: HubKeyPair } {
  const { privateKey } = generateKeyPairSync("ed25519");
  const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  return { pem, keys: hubKeyFromPem(pem) };
}

export function hubKeyFromPem(pem: string): HubKeyPair {
  const privateKey = createPrivateKey(pem);
  const spki = createPublicKey(privateKey).export({ format: "der", type: "spki" });
  return { privateKey, publicKey: KEY_PREFIX + spki.subarray(SPKI_PREFIX.length).toString("base64") };
}

/** Parses a `fleet.trust` entry; undefined when it is not an ed25519 public key in the printed form. */
export function trustedKey(text: string): KeyObject | undefined {
  if (!text.startsWith(KEY_PREFIX)) return undefined;
  const raw = Buffer.from(text.slice(KEY_PREFIX.length), "base64");
  if (raw.length !== 32) return undefined;
  return createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
}

/**
 * The bytes a signature covers: the message without its `signature`, as JSON with keys sorted at every
 * level, so that the signer and the verifier agree whatever order the fields travelled in.
 */
export function signedBytes(message: Record<string, unknown>): Buffer {
  const { signature: _, ...rest } = message;
  return Buffer.from(canonicalJson(rest));
}

export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

/** The message with `signature` (base64) set over every other field. */
export function signMessage<T extends Record<string, unknown>>(message: T, key: HubKeyPair): T & { signature: string } {
  const signature = sign(null, signedBytes(message), key.privateKey).toString("base64");
  return { ...message, signature };
}

/** Whether one of the trusted keys signed the message; false for a missing or malformed signature. */
export function verifyMessage(message: Record<string, unknown>, trusted: readonly KeyObject[]): boolean {
  const signature = message.signature;
  if (typeof signature !== "string" || signature.length === 0) return false;
  const bytes = signedBytes(message);
  const raw = Buffer.from(signature, "base64");
  if (raw.length !== 64) return false;
  return trusted.some((key) => verify(null, bytes, key, raw));
}
