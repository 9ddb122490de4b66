import { FFIType } from "bun:ffi";
import { withLibc } from "../os/libc.ts";

let known: { version: string | undefined } | undefined;

/**
 * The C library's version as the process sees it (`2.36`), or undefined on musl and other libcs. It cannot
 * change while the process runs, so libc is asked once: ONNX Runtime loading asks on every predict.
 */
export function glibcVersion(): string | undefined {
  known ??= { version: askLibc() };
  return known.version;
}

function askLibc(): string | undefined {
  return withLibc({ gnu_get_libc_version: { args: [], returns: FFIType.cstring } }, (libc) =>
    String(libc.gnu_get_libc_version()),
  );
}

export function versionAtLeast(version: string, minimum: string): boolean {
  const a = version.split(".").map(Number);
  const b = minimum.split(".").map(Number);
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const diff = (a[i] ?? 0) - (b[i] ?? 0);
    if (diff !== 0) return diff > 0;
  }
  return true;
}

/** onnxruntime-node's prebuilt Linux libraries (x64 and arm64) are linked against glibc 2.28. */
export const ORT_NATIVE_MIN_GLIBC = "2.28";
