import { statSync } from "node:fs";

/**
 * Waits until none of `files` has changed size or mtime for `debounceMs`, so a session file still being
 * copied in is not read half-way. Gives up after `limitMs` and reads what is there.
 */
export async function waitUntilStable(files: readonly string[], debounceMs: number, limitMs = Math.max(60_000, debounceMs * 10)): Promise<void> {
  if (debounceMs <= 0) return;
  const started = Date.now();
  const signature = () => files.map((file) => {
    try {
      const stats = statSync(file);
      return `${stats.size}:${stats.mtimeMs}`;
    } catch {
      return "gone";
    }
  }).join("|");
  let last = signature();
  let stableSince = Date.now();
  // A file modified long ago is stable already.
  const newest = Math.max(...files.map((file) => { try { return statSync(file).mtimeMs; } catch { return 0; } }));
  if (Date.now() - newest >= debounceMs) return;
  while (Date.now() - stableSince < debounceMs && Date.now() - started < limitMs) {
    await Bun.sleep(Math.min(200, debounceMs));
    const now = signature();
    if (now !== last) {
      last = now;
      stableSince = Date.now();
    }
  }
}
