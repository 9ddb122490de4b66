import type { Database } from "bun:sqlite";

/** The version each model serves, by model name. */
export function activeVersions(db: Database): Array<{ model: string; version: number }> {
  return db.query<{ model: string; version: number }, []>("SELECT model, version FROM active_models ORDER BY model").all();
}

/** How many models the store holds, and how many of them serve a version. */
export function modelCounts(db: Database): { count: number; active: number } {
  const count = db.query<{ n: number }, []>("SELECT count(DISTINCT model) AS n FROM model_versions").get()?.n ?? 0;
  const active = db.query<{ n: number }, []>("SELECT count(*) AS n FROM active_models").get()?.n ?? 0;
  return { count, active };
}
