/** What a cache plugin's setup() returns. */
export interface CacheStats {
  entries: number;
  hits: number;
  misses: number;
}

export interface CacheHooks {
  get(key: string): unknown | undefined;
  /**
   * `value` is JSON data: a cache may keep it as JSON text (on disk, or in memory as bytes) and give back an equal
   * copy.
   */
  set(key: string, value: unknown, ttlMs: number): void;
  delete(key: string): void;
  /** Removes every entry, or those of one model (keys start with `model/`). */
  clear(model?: string): void;
  stats(): CacheStats;
  /** Finishes writes still under way in the background; the daemon awaits it before it stops. */
  flush?(): Promise<void>;
}
