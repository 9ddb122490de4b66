import { timingSafeEqual } from "node:crypto";

/** Constant-time comparison of a request's bearer token with the configured one. */
export function bearerMatches(header: string | null | undefined, token: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? "");
  if (!match) return false;
  const given = Buffer.from(match[1]!.trim());
  const wanted = Buffer.from(token);
  // timingSafeEqual needs equal lengths; compare against itself so a wrong length costs the same time.
  return given.length === wanted.length ? timingSafeEqual(given, wanted) : (timingSafeEqual(wanted, wanted), false);
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|\[::1\]|localhost)$/i;

export function isLoopback(host: string): boolean {
  return LOOPBACK.test(host);
}
