const collator = new Intl.Collator("en", { numeric: true });

/**
 * Names with numbers in them in the order people count: player_2 before player_10. Keys, sessions and
 * models are listed in this order everywhere (CLI, API, TUI).
 */
export function naturalOrder(a: string, b: string): number {
  return collator.compare(a, b);
}
