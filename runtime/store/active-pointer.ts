import { readFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { messageOf } from "../errors.ts";
import { syncPath, writeAtomically, writeAtomicallyAsync } from "../files/write-atomically.ts";

export const POINTER_FILE = "active.json";

/** `models/<name>/active.json`: the serving version and the ones before it, for rollback. */
export interface ActivePointer {
  version: number;
  previous: number[];
  activated_at: string;
}

/**
 * The pointer files of a store's models: the truth about what serves. Each is read once and kept; the
 * store changes a model's pointer only through here, so the kept copy stays the file's.
 */
export class ActivePointers {
  private readonly kept = new Map<string, ActivePointer | undefined>();

  constructor(private readonly root: string) {}

  fileOf(model: string): string {
    return join(this.root, model, POINTER_FILE);
  }

  get(model: string): ActivePointer | undefined {
    if (this.kept.has(model)) return this.kept.get(model);
    let pointer: ActivePointer | undefined;
    try {
      const read = readPointer(readFileSync(this.fileOf(model), "utf8"));
      pointer = "pointer" in read ? read.pointer : undefined;
    } catch {
      pointer = undefined;
    }
    this.kept.set(model, pointer);
    return pointer;
  }

  /** What is known about the file without reading it (repair at open reads it itself). */
  set(model: string, pointer: ActivePointer | undefined): void {
    this.kept.set(model, pointer);
  }

  /** Readers go on seeing the old pointer until the new one is durable. */
  async write(model: string, pointer: ActivePointer): Promise<void> {
    await writeAtomicallyAsync(this.fileOf(model), `${JSON.stringify(pointer)}\n`);
    await syncPath(join(this.root, model));
    this.kept.set(model, pointer);
  }

  /** At open, before anything serves: written at once. */
  writeNow(model: string, pointer: ActivePointer): void {
    writeAtomically(this.fileOf(model), `${JSON.stringify(pointer)}\n`);
    this.kept.set(model, pointer);
  }

  async remove(model: string): Promise<void> {
    await rm(this.fileOf(model), { force: true });
    await syncPath(join(this.root, model));
    this.kept.set(model, undefined);
  }
}

/** A pointer file's text as a pointer, or why it is not one. */
export function readPointer(text: string): { pointer: ActivePointer } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { problem: messageOf(error) };
  }
  const pointer = value as Partial<ActivePointer> | null;
  if (!Number.isInteger(pointer?.version) || pointer!.version! < 1)
    return { problem: "version is not a version number" };
  if (!Array.isArray(pointer!.previous) || !pointer!.previous.every((v) => Number.isInteger(v)))
    return { problem: "previous is not a list of version numbers" };
  return { pointer: pointer as ActivePointer };
}

export function rollbackText(pointer: ActivePointer): string {
  return pointer.previous.length
    ? `rollback goes to the retired versions ${pointer.previous.join(", ")}`
    : "there is no earlier version to roll back to";
}
