import type { JetsonInfo } from "./jetson.ts";

export interface MachineFacts {
  jetson?: JetsonInfo;
  nvidiaGpu: boolean;
  memoryMb?: number;
  /** DMI product name: `t3.micro` on AWS Nitro instances. */
  product?: string;
}

/** The built-in profile closest to this machine, and why. */
export function fittingProfile(facts: MachineFacts): { profile: string; reason: string } {
  const model = facts.jetson?.model?.toLowerCase() ?? "";
  if (facts.jetson && model.includes("orin"))
    return { profile: "jetson-orin", reason: `device tree says ${facts.jetson.model}` };
  if (facts.jetson && (model.includes("nano") || facts.jetson.l4t?.startsWith("32.")))
    return { profile: "jetson-nano", reason: `${facts.jetson.model ?? "Jetson"} on L4T ${facts.jetson.l4t ?? "?"}` };
  if (facts.jetson)
    return { profile: "jetson-orin", reason: `${facts.jetson.model ?? "Jetson"} with L4T ${facts.jetson.l4t ?? "?"}` };
  if (facts.nvidiaGpu) return { profile: "gpu-server", reason: "an NVIDIA GPU is present" };
  if (facts.product?.includes("t3.") || (facts.memoryMb !== undefined && facts.memoryMb <= 2048)) {
    return {
      profile: "t3-micro",
      reason: facts.product ? `instance type ${facts.product}` : `only ${facts.memoryMb} MB of memory`,
    };
  }
  return { profile: "base", reason: "no Jetson, no NVIDIA GPU, more than 2 GB of memory" };
}
