// Imported as text so the compiled binary carries them; found by name, never by readdir (see CONVENTIONS.md).
import base from "../../profiles/base.yaml" with { type: "text" };
import gpuServer from "../../profiles/gpu-server.yaml" with { type: "text" };
import jetsonNano from "../../profiles/jetson-nano.yaml" with { type: "text" };
import jetsonOrin from "../../profiles/jetson-orin.yaml" with { type: "text" };
import t3Micro from "../../profiles/t3-micro.yaml" with { type: "text" };

export const builtinProfiles: Readonly<Record<string, string>> = {
  base,
  "jetson-nano": jetsonNano,
  "jetson-orin": jetsonOrin,
  "gpu-server": gpuServer,
  "t3-micro": t3Micro,
};

export function builtinProfileFile(name: string): string {
  return `profiles/${name}.yaml`;
}
