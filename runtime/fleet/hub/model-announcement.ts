import type { ModelAnnouncement } from "../protocol.ts";
import { signMessage } from "../signing.ts";
import type { HubKeys } from "./hub-key.ts";
import type { ModelFile } from "./model-files.ts";

/**
 * What a rollout tells a device of its new model version, signed with the hub's key: the file, what the
 * model is, and a download URL with a token for this device only.
 */
export function signedAnnouncement(
  keys: HubKeys,
  publicUrl: string,
  rollout: string,
  file: ModelFile,
  device: string,
  at: number,
): ModelAnnouncement {
  const token = keys.downloadToken(device, file.model, file.version);
  const query = `device=${encodeURIComponent(device)}&token=${token}`;
  const url = `${publicUrl}/v1/fleet/files/${file.model}/${file.version}?${query}`;
  const message = {
    type: "model.announce" as const,
    device,
    rollout,
    model: file.model,
    version: file.version,
    size: file.size,
    sha256: file.sha256,
    url,
    task: file.task,
    feature_names: file.feature_names,
    ...(file.classes ? { classes: file.classes } : {}),
    issued_at: new Date(at).toISOString(),
  };
  return signMessage(message, keys);
}
