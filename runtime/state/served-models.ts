import type { Database } from "bun:sqlite";

type Metrics = Record<string, number>;

/** The version each model serves, by model name, with the metrics its run reported. */
export function activeVersions(db: Database): Array<{ model: string; version: number; metrics: Metrics }> {
  return db
    .query<{ model: string; version: number; metrics: string | null }, []>(
      // With one max() in the list, SQLite takes the bare metrics column from the row that has the max.
      "SELECT model, max(version) AS version, metrics FROM model_versions WHERE status = 'active' " +
        "GROUP BY model ORDER BY model",
    )
    .all()
    .map((row) => ({ ...row, metrics: (row.metrics ? JSON.parse(row.metrics) : {}) as Metrics }));
}

/** How many models the store holds, and how many of them serve a version. */
export function modelCounts(db: Database): { count: number; active: number } {
  const count = db.query<{ n: number }, []>("SELECT count(DISTINCT model) AS n FROM model_versions").get()?.n ?? 0;
  const active =
    db.query<{ n: number }, []>("SELECT count(DISTINCT model) AS n FROM model_versions WHERE status = 'active'").get()
      ?.n ?? 0;
  return { count, active };
}
