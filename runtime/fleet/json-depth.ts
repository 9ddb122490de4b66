/** Deeper than any message of the fleet's protocol; a message nested past it is refused unread. */
export const MAX_MESSAGE_DEPTH = 32;

/**
 * Whether a parsed JSON value nests arrays or objects deeper than `limit`. It stops at the limit, so that a
 * forged message nested thousands deep cannot overflow the stack of what reads it next (signing, printing).
 */
export function nestedDeeperThan(value: unknown, limit = MAX_MESSAGE_DEPTH): boolean {
  if (value === null || typeof value !== "object") return false;
  if (limit === 0) return true;
  const items = Array.isArray(value) ? value : Object.values(value);
  return items.some((item) => nestedDeeperThan(item, limit - 1));
}
