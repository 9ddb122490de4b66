/** Sessions kept and loaded since the start, for `/v1/status` and `/metrics`. */
export interface SessionCounts {
  /** Sessions kept loaded now, and their estimated memory against the budget. */
  loaded: number;
  bytes: number;
  budget_bytes: number;
  /** Sessions created since the start, kept or not. */
  loads: number;
  /** Of those, sessions not kept: they answered the requests that came while they were loaded, then went. */
  not_kept: number;
  /** Sessions unloaded to make room for another. */
  evictions: number;
}
