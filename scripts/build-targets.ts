/**
 * The binaries `npm run build` makes: one per hardware target, plus the generic ones. Each carries only
 * the ONNX Runtime builds its target can load, and defaults to its target's profile.
 */
export type OrtBuild = "native" | "wasm";

export interface BuildTarget {
  /** Bun's compile target. */
  arch: "x64" | "arm64";
  /** The ONNX Runtime builds embedded. */
  ort: readonly OrtBuild[];
  /** The built-in profile used when neither --profile, EDGETRAIN_PROFILE nor the home names one. */
  profile: string;
  /** The most the binary may weigh, in MB (issue 28), checked by the tests. */
  maxMb?: number;
}

export const TARGETS = {
  "linux-x64": { arch: "x64", ort: ["native", "wasm"], profile: "base" },
  "linux-arm64": { arch: "arm64", ort: ["native", "wasm"], profile: "base" },
  // glibc 2.27 on JetPack 4 cannot load native ONNX Runtime.
  "jetson-nano": { arch: "arm64", ort: ["wasm"], profile: "jetson-nano", maxMb: 115 },
  "jetson-orin": { arch: "arm64", ort: ["native"], profile: "jetson-orin" },
  // The CUDA provider's libraries come with the driver stack, installed apart; native ONNX Runtime loads them.
  "gpu-server": { arch: "x64", ort: ["native"], profile: "gpu-server" },
  "t3-micro": { arch: "x64", ort: ["native"], profile: "t3-micro", maxMb: 130 },
} as const satisfies Record<string, BuildTarget>;

export type TargetName = keyof typeof TARGETS;

export function isTargetName(name: string): name is TargetName {
  return Object.hasOwn(TARGETS, name);
}
