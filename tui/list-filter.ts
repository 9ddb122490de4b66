import type { Key } from "ink";

/** The screens that list things a person looks for by name: `/` filters them. */
export const LIST_SCREENS = ["Runs", "Models", "Jobs"] as const;
export type ListScreen = (typeof LIST_SCREENS)[number];

export interface ListFilter {
  /** The text each list screen is filtered by; empty shows all. */
  text: Record<ListScreen, string>;
  /** Whether keys are being typed into the filter of the screen shown. */
  editing: boolean;
}

export const NO_FILTER: ListFilter = { text: { Runs: "", Models: "", Jobs: "" }, editing: false };

export function isListScreen(screen: string): screen is ListScreen {
  return (LIST_SCREENS as readonly string[]).includes(screen);
}

/** The rows whose name holds every word of the filter, case aside: `play 10` finds activity-player_10. */
export function matching<T>(rows: T[], text: string, nameOf: (row: T) => string): T[] {
  const words = text.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return rows;
  return rows.filter((row) => {
    const name = nameOf(row).toLowerCase();
    return words.every((word) => name.includes(word));
  });
}

/**
 * A key typed while the filter is open: letters are text (q, j and the digits too), Backspace takes one
 * back, Enter keeps the filter and closes it, Esc clears it. Arrows are left to move the selection.
 */
export function typedIntoFilter(filter: ListFilter, screen: ListScreen, input: string, key: Key): ListFilter {
  const text = filter.text[screen];
  const set = (next: string, editing: boolean) => ({ text: { ...filter.text, [screen]: next }, editing });
  if (key.escape) return set("", false);
  if (key.return) return set(text, false);
  if (key.backspace || key.delete) return set(text.slice(0, -1), true);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a control character typed is a key, not filter text.
  if (key.ctrl || key.meta || key.tab || !input || /[\u0000-\u001f]/.test(input)) return filter;
  return set((text + input).slice(0, 60), true);
}
