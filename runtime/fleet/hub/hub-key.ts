import { createHmac, timingSafeEqual } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { EdgetrainError, messageOf } from "../../errors.ts";
import { writeAtomically } from "../../files/write-atomically.ts";
import { generateHubKey, type HubKeyPair, hubKeyFromPem } from "../signing.ts";

export interface HubKeys extends HubKeyPair {
  /** The per-device download token of a model version: an HMAC under a secret derived from the hub key. */
  downloadToken(device: string, model: string, version: number): string;
  downloadTokenMatches(token: string, device: string, model: string, version: number): boolean;
}

export function hubKeyFile(home: string): string {
  return join(home, "hub.key");
}

/**
 * The hub's ed25519 key, `<home>/hub.key` (PKCS8 PEM, readable by its owner only), made on the first start.
 * A key left readable by others is made private again rather than trusted as it is.
 */
export function loadHubKey(home: string, create = true): HubKeys {
  const file = hubKeyFile(home);
  let pem: string;
  if (!existsSync(file)) {
    if (!create)
      throw new EdgetrainError("not_found", `no hub key in ${home}`, {
        hint: `start the hub once: edgetrain hub --home ${home}`,
      });
    pem = generateHubKey().pem;
    mkdirSync(home, { recursive: true });
    writeAtomically(file, pem, 0o600);
  } else {
    if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
    pem = readFileSync(file, "utf8");
  }
  let pair: HubKeyPair;
  try {
    pair = hubKeyFromPem(pem);
  } catch (error) {
    throw new EdgetrainError("bad_input", `${file} is not an ed25519 private key: ${messageOf(error)}`, {
      details: { file },
    });
  }
  const secret = createHmac("sha256", pem).update("edgetrain fleet download tokens").digest();
  const downloadToken = (device: string, model: string, version: number) =>
    createHmac("sha256", secret).update(`${device}\n${model}\n${version}`).digest("base64url");
  return {
    ...pair,
    downloadToken,
    downloadTokenMatches(token, device, model, version) {
      const wanted = Buffer.from(downloadToken(device, model, version));
      const given = Buffer.from(token);
      return given.length === wanted.length && timingSafeEqual(given, wanted);
    },
  };
}
