import type { Database } from "bun:sqlite";

/** The version each model serves, by model name. */
export function activeVersions(db: Database): Array<{ model: string; version: number }> {
  return db.query<{ model: string; version: number }, []>("SELECT model, max(version) AS version FROM model_versions WHERE status = 'active' GROUP BY model ORDER BY model").all();
}

/** How many models the store holds, and how many of them serve a version. */
export function modelCounts(db: Database): { count: number; active: number } {
  const count = db.query<{ n: number }, []>("SELECT count(DISTINCT model) AS n FROM model_versions").get()?.n ?? 0;
  const active = db.query<{ n: number }, []>("SELECT count(DISTINCT model) AS n FROM model_versions WHERE status = 'active'").get()?.n ?? 0;
  return { count, active };
}
