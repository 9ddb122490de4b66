/**
 * The tiny protocol an external trainer speaks: one JSON object per stdout line; any other line is log.
 *   {"event":"heartbeat","epoch":3,"epochs":10,"step":120,"loss":0.41}
 *   {"event":"checkpoint","path":"ckpt/3.pt","metrics":{"val_loss":0.52}}
 *   {"event":"artifact","path":"model.onnx","metrics":{"accuracy":0.91}}
 * Paths are relative to the worker's folder (EDGETRAIN_RUN_DIR).
 */
export type TrainerMessage =
  | { event: "heartbeat"; epoch?: number; epochs?: number; step?: number; loss?: number; [field: string]: unknown }
  | { event: "checkpoint"; path: string; metrics?: Record<string, number> }
  | { event: "artifact"; path: string; metrics?: Record<string, number> };

/** The message on a line, or undefined for a log line (including JSON that is not a protocol event). */
export function parseTrainerLine(line: string): TrainerMessage | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith("{")) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(trimmed);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const message = value as Record<string, unknown>;
  if (message.event === "heartbeat") return message as TrainerMessage;
  if ((message.event === "checkpoint" || message.event === "artifact") && typeof message.path === "string") {
    const metrics = numbersOnly(message.metrics);
    return { event: message.event, path: message.path, metrics };
  }
  return undefined;
}

function numbersOnly(value: unknown): Record<string, number> | undefined {
  if (typeof value !== "object" || value === null) return undefined;
  return Object.fromEntries(
    Object.entries(value).filter(
      (entry): entry is [string, number] => typeof entry[1] === "number" && Number.isFinite(entry[1]),
    ),
  );
}

/** Splits a byte stream into lines, keeping the unfinished tail for the next chunk. */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: Buffer | string): void; end(): void } {
  let pending = "";
  return {
    push(chunk) {
      pending += chunk.toString();
      let newline = pending.indexOf("\n");
      while (newline >= 0) {
        onLine(pending.slice(0, newline).replace(/\r$/, ""));
        pending = pending.slice(newline + 1);
        newline = pending.indexOf("\n");
      }
    },
    end() {
      if (pending) onLine(pending);
      pending = "";
    },
  };
}
