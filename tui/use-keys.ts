import { type Key, useInput } from "ink";
import { useEffect, useEffectEvent, useState } from "react";

export interface Keypress {
  input: string;
  key: Key;
}

/**
 * The keys in one input from Ink. Ink hands over a run of plain text read at once (fast typing, key
 * repeat, tmux send-keys, a slow link) as one input; escape sequences (arrows), Backspace and Ctrl+C it
 * hands over alone. A run is split into its characters, each made the key Ink would have made of it alone.
 */
export function keysIn(input: string, key: Key): Keypress[] {
  const characters = [...input];
  // An input that names a key (Enter, an arrow, ctrl+x) is one key.
  const named = Object.values(key).some((on) => on === true);
  if (characters.length < 2 || named) return [{ input, key }];
  return characters.map((character): Keypress => {
    const code = character.codePointAt(0)!;
    if (character === "\r") return { input: character, key: { ...key, return: true } };
    if (character === "\t") return { input: "", key: { ...key, tab: true } };
    if (character === "\0") return { input: " ", key: { ...key, ctrl: true } };
    // Ctrl+letter, as Ink reads it alone; a line feed stays text, as it does in Ink.
    if (code < 0x20 && character !== "\n")
      return { input: String.fromCharCode(code + (code <= 26 ? 96 : 64)), key: { ...key, ctrl: true } };
    return { input: character, key: { ...key, shift: /^[A-Z]$/.test(character) } };
  });
}

/**
 * Ink's useInput, one key at a time, each handled after the redraw of the key before it: keys read
 * together then see the screen, selection or filter the keys before them left, as if typed slowly.
 */
export function useKeys(handle: (input: string, key: Key) => void): void {
  const [waiting, setWaiting] = useState<Keypress[]>([]);
  const handleKey = useEffectEvent(handle);
  useInput((input, key) => setWaiting((keys) => [...keys, ...keysIn(input, key)]));
  useEffect(() => {
    const next = waiting[0];
    if (!next) return;
    // Dropped in the same update as the key's own changes, so the next key waits for the redraw with them.
    setWaiting((keys) => keys.slice(1));
    handleKey(next.input, next.key);
  }, [waiting]);
}
