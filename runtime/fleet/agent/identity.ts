import { createHash } from "node:crypto";
import { hostname, networkInterfaces } from "node:os";
import type { FleetConfig } from "../../config/schema.ts";
import { EdgetrainError } from "../../errors.ts";
import { readText } from "../../hardware/host-files.ts";

export interface DeviceIdentity {
  device: string;
  name: string;
  location?: string;
  groups: string[];
}

/**
 * Who this device is in the fleet. Without `fleet.device_id`, an id hashed from /etc/machine-id (the
 * first MAC address where there is none): the same after edgetrain is reinstalled, and not the raw id,
 * which some systems treat as confidential.
 */
export function deviceIdentity(fleet: FleetConfig, hostRoot: string): DeviceIdentity {
  const device = fleet.device_id ?? derivedDeviceId(hostRoot);
  return { device, name: fleet.name ?? hostname(), location: fleet.location, groups: [...fleet.groups] };
}

export function derivedDeviceId(hostRoot: string): string {
  const machineId = readText(hostRoot, "etc/machine-id")?.trim();
  const source = machineId ? `machine-id:${machineId}` : firstMac();
  if (!source) {
    throw new EdgetrainError(
      "profile_invalid",
      "this device has neither /etc/machine-id nor a network card address to derive its fleet id from",
      {
        hint: "set fleet.device_id in the profile",
      },
    );
  }
  return `dev-${createHash("sha256").update(source).digest("hex").slice(0, 20)}`;
}

function firstMac(): string | undefined {
  const macs = Object.entries(networkInterfaces())
    .sort(([a], [b]) => a.localeCompare(b))
    .flatMap(([, addresses]) => addresses ?? [])
    .filter((address) => !address.internal && address.mac !== "00:00:00:00:00:00")
    .map((address) => address.mac);
  return macs[0] && `mac:${macs[0]}`;
}
