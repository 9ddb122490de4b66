import type { KeyObject } from "node:crypto";
import * as v from "valibot";
import { EdgetrainError } from "../../errors.ts";
import { MAX_MESSAGE_DEPTH, nestedDeeperThan } from "../json-depth.ts";
import { trustedKey, verifyMessage } from "../signing.ts";

/** The hub keys of `fleet.trust`; a profile listing a key that does not parse is refused at start. */
export function trustedKeys(trust: readonly string[]): KeyObject[] {
  return trust.map((text, index) => {
    const key = trustedKey(text);
    if (!key)
      throw new EdgetrainError("profile_invalid", `fleet.trust[${index}] is not an ed25519 public key`, {
        hint: "copy the line `edgetrain hub key` prints",
      });
    return key;
  });
}

export type Checked<T> =
  | { ok: true; message: T }
  | { ok: false; reason: string /** What could be read of it, to answer. */; partial?: Record<string, unknown> };

/**
 * A message from the hub is trusted only when a `fleet.trust` key signed it; its signature is checked
 * before its shape, its device or anything else about it is acted on.
 */
export function checkSigned<S extends v.GenericSchema>(
  raw: unknown,
  schema: S,
  trusted: readonly KeyObject[],
  device: string,
): Checked<v.InferOutput<S>> {
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) return { ok: false, reason: "not a JSON object" };
  if (nestedDeeperThan(raw)) return { ok: false, reason: `nested deeper than ${MAX_MESSAGE_DEPTH} levels` };
  const message = raw as Record<string, unknown>;
  if (typeof message.signature !== "string" || message.signature === "")
    return { ok: false, reason: "unsigned", partial: message };
  if (trusted.length === 0) return { ok: false, reason: "fleet.trust lists no hub key", partial: message };
  if (!verifyMessage(message, trusted))
    return { ok: false, reason: "signature does not match any key of fleet.trust", partial: message };
  const parsed = v.safeParse(schema, message);
  if (!parsed.success)
    return {
      ok: false,
      reason: `malformed: ${issuesText(parsed.issues, "message")}`,
      partial: message,
    };
  if ((parsed.output as { device: string }).device !== device)
    return {
      ok: false,
      reason: `addressed to device ${(parsed.output as { device: string }).device}, not this one`,
      partial: message,
    };
  return { ok: true, message: parsed.output };
}

/** JSON bytes off the network as a value; undefined for what is not JSON (an empty retained message clears a topic). */
export function parseJson(payload: Uint8Array | string): unknown {
  const text = typeof payload === "string" ? payload : new TextDecoder().decode(payload);
  if (text.trim() === "") return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** Valibot's issues in one line: `args.version Invalid type; …`. */
export function issuesText(issues: readonly v.BaseIssue<unknown>[], root: string): string {
  return issues.map((issue) => `${v.getDotPath(issue) ?? root} ${issue.message}`).join("; ");
}
