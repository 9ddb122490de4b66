declare const EDGETRAIN_BUILD: { version: string; commit: string; target: string } | undefined;

/** Injected by scripts/build.ts through `define`; from source the package version is used. */
export const build =
  typeof EDGETRAIN_BUILD !== "undefined"
    ? EDGETRAIN_BUILD
    : { version: (await import("../package.json")).version, commit: "source", target: `bun-${process.platform}-${process.arch}` };

export const VERSION = build.version;
