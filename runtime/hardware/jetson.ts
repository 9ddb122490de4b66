import { readText } from "./host-files.ts";

export interface JetsonInfo {
  /** From the device tree: `NVIDIA Jetson Nano Developer Kit`. */
  model?: string;
  /** L4T release from /etc/nv_tegra_release: `32.7.1`. */
  l4t?: string;
  /** JetPack release that ships this L4T, where known. */
  jetpack?: string;
}

// L4T → JetPack, from NVIDIA's release notes; a newer L4T shows as its major line.
const JETPACK_OF_L4T: Record<string, string> = {
  "32.4.3": "4.4",
  "32.4.4": "4.4.1",
  "32.5.0": "4.5",
  "32.5.1": "4.5.1",
  "32.5.2": "4.5.1",
  "32.6.1": "4.6",
  "32.7.1": "4.6.1",
  "32.7.2": "4.6.2",
  "32.7.3": "4.6.3",
  "32.7.4": "4.6.4",
  "32.7.5": "4.6.5",
  "32.7.6": "4.6.6",
  "35.1.0": "5.0.2",
  "35.2.1": "5.1",
  "35.3.1": "5.1.1",
  "35.4.1": "5.1.2",
  "35.5.0": "5.1.3",
  "35.6.0": "5.1.4",
  "36.2.0": "6.0 DP",
  "36.3.0": "6.0",
  "36.4.0": "6.1",
  "36.4.3": "6.2",
  "36.4.4": "6.2.1",
};
const JETPACK_LINE: Record<string, string> = { "32": "4.x", "34": "5.0 DP", "35": "5.x", "36": "6.x" };

/** `# R32 (release), REVISION: 7.1, GCID: …` → `32.7.1`. */
export function parseTegraRelease(text: string): string | undefined {
  const match = /R(\d+)\s*\(release\),\s*REVISION:\s*([\d.]+)/.exec(text);
  return match ? `${match[1]}.${match[2]}` : undefined;
}

export function jetpackOf(l4t: string): string | undefined {
  return (
    JETPACK_OF_L4T[l4t] ??
    (JETPACK_LINE[l4t.split(".")[0]!] ? `${JETPACK_LINE[l4t.split(".")[0]!]} (L4T ${l4t})` : undefined)
  );
}

export function detectJetson(root: string): JetsonInfo | undefined {
  const release = readText(root, "etc/nv_tegra_release");
  // The device tree model ends with a NUL byte.
  const model = readText(root, "proc/device-tree/model")?.replace(/\0/g, "").trim();
  if (!release && !model?.toLowerCase().includes("jetson")) return undefined;
  const l4t = release ? parseTegraRelease(release) : undefined;
  return { model, l4t, jetpack: l4t ? jetpackOf(l4t) : undefined };
}
