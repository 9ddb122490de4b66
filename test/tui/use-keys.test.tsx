import { expect, test } from "bun:test";
import { type Key, Text, useInput } from "ink";
import { render } from "ink-testing-library";
import { type Keypress, keysIn } from "../../tui/use-keys.ts";

function Reader({ onKey }: { onKey: (read: Keypress) => void }) {
  useInput((input: string, key: Key) => onKey({ input, key }));
  return <Text>reading</Text>;
}

/** What Ink's useInput hands over for `writes`, each written to the terminal as one read. */
function inkReads(writes: string[]): Keypress[] {
  const read: Keypress[] = [];
  const screen = render(<Reader onKey={(key) => read.push(key)} />);
  for (const text of writes) screen.stdin.write(text);
  screen.unmount();
  return read;
}

test("keys read at once split into the keys Ink makes of each read alone", () => {
  const keys = ["j", "J", "/", "1", " ", "\r", "\t", "\u0001", "\0", "é", "😀", "\u007F", "\u001B[A", "k", "\n", "q"];
  const alone = inkReads(keys);
  expect(alone.map((read) => read.input)).toContain("😀");
  const atOnce = inkReads([keys.join("")]);
  // Ink itself hands the run of plain text over as one input: that is what keysIn splits.
  expect(atOnce.length).toBeLessThan(keys.length);
  expect(atOnce.flatMap((read) => keysIn(read.input, read.key))).toEqual(alone);
});

test("a key Ink names stays one key", () => {
  const [enter] = inkReads(["\r"]);
  expect(keysIn(enter!.input, enter!.key)).toEqual([enter!]);
  const [meta] = inkReads(["\u001Bj"]);
  expect(keysIn(meta!.input, meta!.key)).toEqual([{ input: "j", key: expect.objectContaining({ meta: true }) }]);
});
