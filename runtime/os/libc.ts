import { dlopen, type FFIFunction } from "bun:ffi";

/**
 * Opens the C library with `symbols`, hands them to `use`, and closes it again; undefined where libc cannot
 * be opened (musl, no FFI) or a symbol is missing, so callers fall back instead of failing.
 */
export function withLibc<const Symbols extends Record<string, FFIFunction>, T>(
  symbols: Symbols,
  use: (libc: ReturnType<typeof dlopen<Symbols>>["symbols"]) => T,
): T | undefined {
  let libc: ReturnType<typeof dlopen<Symbols>>;
  try {
    libc = dlopen("libc.so.6", symbols);
  } catch {
    return undefined;
  }
  try {
    return use(libc.symbols);
  } finally {
    libc.close();
  }
}
