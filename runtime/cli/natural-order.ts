const collator = new Intl.Collator("en", { numeric: true });

/** Names with numbers in them in the order people count: player_2 before player_10. */
export function naturalCompare(a: string, b: string): number {
  return collator.compare(a, b);
}
