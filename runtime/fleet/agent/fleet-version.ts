import type { Database } from "bun:sqlite";
import { announcedVersionOfFile } from "../../state/fleet.ts";
import type { ModelStore } from "../../store/model-store.ts";

/**
 * The hub's number for a version kept on this device, or null for one trained or imported here. The two
 * numberings part as soon as a local version takes a number first (a fleet update is numbered as the hub
 * numbers it only where that number is free), so heartbeats and registration send both. The file decides:
 * the newest announcement activated with it, else the rollout it was stored from.
 */
export function fleetVersionOf(db: Database, store: ModelStore, model: string, version: number): number | null {
  const kept = store.version(model, version);
  if (!kept) return null;
  return announcedVersionOfFile(db, model, kept.sha256) ?? kept.fleet?.version ?? null;
}
