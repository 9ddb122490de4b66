import { join } from "node:path";
import { repoRoot } from "../helpers.ts";

export const python = Bun.which("python3");
export const noPython = python ? "" : " (skipped: no python3 to listen on a datagram socket)";

/**
 * A notify socket like systemd's at `path` (`@name`: abstract); `next(match)` waits for the next datagram
 * that matches, dropping those before it.
 */
export async function notifySocket(path: string) {
  const script = join(repoRoot, "test/fixtures/systemd/notify-listener.py");
  const listener = Bun.spawn([python!, script, path], { stdout: "pipe" });
  const reader = listener.stdout.getReader();
  const received: string[] = [];
  let buffered = "";
  const pull = async () => {
    const { value, done } = await reader.read();
    if (done) throw new Error("the notify listener exited");
    buffered += new TextDecoder().decode(value);
    const lines = buffered.split("\n");
    buffered = lines.pop()!;
    received.push(...lines.map((line) => JSON.parse(line) as string));
  };
  while (!received.length) await pull();
  received.shift(); // "listening"
  return {
    async next(match: (message: string) => boolean): Promise<string> {
      for (;;) {
        const index = received.findIndex(match);
        if (index >= 0) return received.splice(0, index + 1).at(-1)!;
        received.length = 0;
        await pull();
      }
    },
    [Symbol.dispose]: () => listener.kill(),
  };
}
