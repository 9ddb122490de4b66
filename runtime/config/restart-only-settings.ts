import type { Profile } from "./schema.ts";

/**
 * The settings a reload cannot change in a running daemon (where files live, the inference runtime, the cache
 * and model store as built, the log file), each picked out of a profile; a reload that changes one says so.
 */
const RESTART_ONLY: Record<string, (profile: Profile) => unknown> = {
  paths: (profile) => profile.paths,
  inference: (profile) => profile.inference,
  cache: ({ cache: { ttl: _ttl, ttl_during_training: _training, ...built } }) => built,
  models: (profile) => profile.models,
  logging: ({ logging: { level: _level, ...file } }) => file,
};

/** The restart-only settings that differ between the running profile and the reloaded one. */
export function restartOnlyChanges(running: Profile, next: Profile): string[] {
  return Object.entries(RESTART_ONLY)
    .filter(([, pick]) => JSON.stringify(pick(running)) !== JSON.stringify(pick(next)))
    .map(([section]) => section);
}
