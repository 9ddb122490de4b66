import type { Database } from "bun:sqlite";

/** A model file placed for predictors that read files (copy-to-dir), or the replaced file put back. */
export interface FileCopy {
  id: number;
  model: string;
  version: number;
  job: string;
  key?: string;
  /** `copy`: a version's file; `restore`: the file a copy replaced, put back after a rollback. */
  kind: "copy" | "restore";
  source: string;
  target: string;
  /** Where a copy keeps the file it replaces first (previous_dir); a restore puts that file back from there. */
  previous?: string;
  state: "pending" | "done" | "superseded" | "failed";
  reason?: string;
  attempts: number;
  created_at: number;
  updated_at: number;
}

export type NewFileCopy = Pick<
  FileCopy,
  "model" | "version" | "job" | "key" | "kind" | "source" | "target" | "previous"
>;

type Nullable<T, K extends keyof T> = Omit<T, K> & { [P in K]-?: NonNullable<T[P]> | null };
type Row = Nullable<FileCopy, "key" | "previous" | "reason">;

const fromRow = ({ key, previous, reason, ...row }: Row): FileCopy => ({
  ...row,
  ...(key !== null ? { key } : {}),
  ...(previous !== null ? { previous } : {}),
  ...(reason !== null ? { reason } : {}),
});

const INSERT = `INSERT INTO file_copies
  (model, version, job, key, kind, source, target, previous, state, reason, attempts, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING *`;

/**
 * Records a placement, pending or done, and supersedes what was still pending for the same target (returned):
 * the newest decision about a file wins. A done one also drops the older finished rows of its target.
 */
export function recordFileCopy(
  db: Database,
  copy: NewFileCopy,
  state: "pending" | "done",
  why?: string,
): { copy: FileCopy; superseded: FileCopy[] } {
  const now = Date.now();
  return db.transaction(() => {
    const by = copy.kind === "restore" ? `a rollback to version ${copy.version}` : `version ${copy.version}`;
    const superseded = db
      .query<Row, [string, number, string]>(
        `UPDATE file_copies SET state = 'superseded', reason = ?, updated_at = ?
          WHERE target = ? AND state = 'pending' RETURNING *`,
      )
      .all(`superseded by ${by}`, now, copy.target)
      .map(fromRow);
    const { model, version, job, key, kind, source, target, previous } = copy;
    const row = db
      .query<Row, Array<string | number | null>>(INSERT)
      .get(model, version, job, key ?? null, kind, source, target, previous ?? null, state, why ?? null, 0, now, now)!;
    if (state === "done") finished(db, row.id, target);
    return { copy: fromRow(row), superseded };
  })();
}

/** A pending copy written at last; the older finished rows of its target go. */
export function markFileCopyDone(db: Database, id: number): void {
  db.transaction(() => {
    const row = db
      .query<{ target: string }, [number, number]>(
        "UPDATE file_copies SET state = 'done', reason = NULL, updated_at = ? WHERE id = ? RETURNING target",
      )
      .get(Date.now(), id);
    if (row) finished(db, id, row.target);
  })();
}

/** Still pending, with why: its predictors are live, or a write failed (`attempted`). */
export function markFileCopyWaiting(db: Database, id: number, reason: string, attempted: boolean): void {
  db.query("UPDATE file_copies SET reason = ?, attempts = attempts + ?, updated_at = ? WHERE id = ?").run(
    reason,
    attempted ? 1 : 0,
    Date.now(),
    id,
  );
}

/** Given up for good: superseded (a rollback) or failed (its source is gone). */
export function closeFileCopy(db: Database, id: number, state: "superseded" | "failed", reason: string): void {
  const close = db.query("UPDATE file_copies SET state = ?, reason = ?, updated_at = ? WHERE id = ?");
  close.run(state, reason, Date.now(), id);
}

/** Copies still waiting, oldest first. */
export function pendingFileCopies(db: Database): FileCopy[] {
  return db.query<Row, []>("SELECT * FROM file_copies WHERE state = 'pending' ORDER BY id").all().map(fromRow);
}

/** The newest pending or written copy of each target a model's copies went to: what a rollback acts on. */
export function latestFileCopiesOf(db: Database, model: string): FileCopy[] {
  return db
    .query<Row, [string]>(
      `SELECT c.* FROM file_copies AS c
        WHERE c.id = (SELECT max(id) FROM file_copies WHERE target = c.target AND state IN ('pending', 'done'))
          AND c.model = ? ORDER BY c.id`,
    )
    .all(model)
    .map(fromRow);
}

/** The newest copy written to a target: what its file holds now. */
export function writtenFileCopy(db: Database, target: string): FileCopy | undefined {
  const row = db
    .query<Row, [string]>("SELECT * FROM file_copies WHERE target = ? AND state = 'done' ORDER BY id DESC LIMIT 1")
    .get(target);
  return row ? fromRow(row) : undefined;
}

/** Only the newest written row of a target is needed (a rollback undoes it): older finished rows go. */
function finished(db: Database, id: number, target: string): void {
  db.query("DELETE FROM file_copies WHERE target = ? AND id < ? AND state <> 'pending'").run(target, id);
}
