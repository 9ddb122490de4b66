/** What scripts/build.ts injects through `define`: the package version, the commit and the binary's target. */
interface BuildInfo {
  version: string;
  commit: string;
  /** The hardware target (`jetson-nano`, `t3-micro`…) or the generic `linux-x64`/`linux-arm64`. */
  target: string;
  /** Bun's compile target. */
  platform: string;
  /** The built-in profile the binary defaults to. */
  profile: string;
}

declare const EDGETRAIN_BUILD: BuildInfo | undefined;

/** From source, the package version, and a target that says so. */
export const build: BuildInfo =
  typeof EDGETRAIN_BUILD !== "undefined"
    ? EDGETRAIN_BUILD
    : {
        version: (await import("../package.json")).version,
        commit: "source",
        target: "source",
        platform: `bun-${process.platform}-${process.arch}`,
        profile: "base",
      };

export const VERSION = build.version;
