import type { Key } from "ink";
import { useRef, useState } from "react";
import { isListScreen, type ListFilter, type ListScreen, NO_FILTER, typedIntoFilter } from "./list-filter.ts";

/**
 * The `/` filters of the list screens and the keys that drive them. `onChange(list)` is told when a
 * list's filter text changes, so that its selection can go back to the first row.
 */
export function useListFilter(onChange: (list: ListScreen) => void) {
  const [filter, setFilter] = useState<ListFilter>(NO_FILTER);
  // Read by the key handler: keys typed faster than a redraw (a paste) must not see a stale state.
  const typing = useRef(false);

  return {
    filter,
    /** The filter text of `screen`, or "" for a screen that has none. */
    textOf: (screen: string) => (isListScreen(screen) ? filter.text[screen] : ""),
    /**
     * Takes the key when it belongs to a filter: while one is typed every key but the arrows does;
     * on a list (not a detail) `/` opens it and Esc clears a kept one. Returns whether it took the key.
     */
    handle(screen: string, input: string, key: Key, onList: boolean): boolean {
      if (!isListScreen(screen)) return false;
      if (typing.current && !key.upArrow && !key.downArrow) {
        if (key.escape || key.return) typing.current = false;
        if (!key.return) onChange(screen);
        setFilter((current) => typedIntoFilter(current, screen, input, key));
        return true;
      }
      if (!onList) return false;
      if (input === "/") {
        typing.current = true;
        setFilter((current) => ({ ...current, editing: true }));
        return true;
      }
      if (key.escape && filter.text[screen]) {
        onChange(screen);
        setFilter((current) => ({ ...current, text: { ...current.text, [screen]: "" } }));
        return true;
      }
      return false;
    },
  };
}
