/**
 * Numbered schema migrations, applied in order at start inside one transaction each. Never edit a
 * released migration: add the next number.
 */
export const migrations: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: "runs, model versions, trigger state, plugin store, events",
    sql: `
      CREATE TABLE runs (
        id TEXT PRIMARY KEY,
        job TEXT NOT NULL,
        key TEXT,
        strategy TEXT NOT NULL,
        trigger TEXT NOT NULL,
        status TEXT NOT NULL
          CHECK (status IN ('queued','running','paused','stalled','succeeded','failed','cancelled','interrupted')),
        created_at INTEGER NOT NULL,
        started_at INTEGER,
        ended_at INTEGER,
        progress REAL,
        message TEXT,
        metrics TEXT,
        error TEXT
      );
      CREATE INDEX runs_by_job ON runs (job, key, created_at);
      CREATE TABLE model_versions (
        model TEXT NOT NULL,
        version INTEGER NOT NULL,
        job TEXT,
        key TEXT,
        run_id TEXT REFERENCES runs (id),
        path TEXT NOT NULL,
        sha256 TEXT NOT NULL,
        status TEXT NOT NULL,
        metrics TEXT,
        metadata TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (model, version)
      );
      CREATE TABLE active_models (
        model TEXT PRIMARY KEY,
        version INTEGER NOT NULL,
        activated_at INTEGER NOT NULL
      );
      CREATE TABLE trigger_state (
        job TEXT NOT NULL,
        key TEXT NOT NULL DEFAULT '',
        trigger TEXT NOT NULL,
        state TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (job, key, trigger)
      );
      CREATE TABLE plugin_store (
        plugin TEXT NOT NULL,
        key TEXT NOT NULL,
        value TEXT NOT NULL,
        PRIMARY KEY (plugin, key)
      );
      CREATE TABLE events (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at INTEGER NOT NULL,
        type TEXT NOT NULL,
        data TEXT NOT NULL
      );
      CREATE INDEX events_by_time ON events (at);
    `,
  },
  {
    version: 2,
    name: "runs keep their folder and details: last heartbeat, checkpoints, log tail, data summary",
    sql: `
      ALTER TABLE runs ADD COLUMN run_dir TEXT;
      ALTER TABLE runs ADD COLUMN details TEXT;
    `,
  },
  {
    version: 3,
    name: "edgetrain's own activity per hour: load samples and API requests, for off-peak windows",
    sql: `
      CREATE TABLE usage_hours (
        hour_start INTEGER PRIMARY KEY,
        samples INTEGER NOT NULL DEFAULT 0,
        cpu_sum REAL NOT NULL DEFAULT 0,
        memory_sum REAL NOT NULL DEFAULT 0,
        requests INTEGER NOT NULL DEFAULT 0
      );
    `,
  },
  {
    version: 4,
    name: "deploys: a successful run's model on its way into serving, resumed after a crash",
    // One row per successful run of a job: pending when the run is recorded as succeeded (in the same
    // transaction), in_progress while the deploy steps run, done or failed once they decided.
    sql: `
      CREATE TABLE deploys (
        run_id TEXT PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
        job TEXT NOT NULL,
        key TEXT,
        model TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending','in_progress','done','failed')),
        result TEXT NOT NULL,
        version INTEGER,
        reason TEXT,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX deploys_unfinished ON deploys (state) WHERE state IN ('pending', 'in_progress');
    `,
  },
  {
    version: 5,
    name: "the active version is recorded once: active.json, backed by the version row marked active",
    // active_models repeated the row's status; its record moves into the status before it goes.
    sql: `
      UPDATE model_versions SET status = 'retired' WHERE status = 'active';
      UPDATE model_versions SET status = 'active'
        WHERE EXISTS (SELECT 1 FROM active_models a
                       WHERE a.model = model_versions.model AND a.version = model_versions.version);
      DROP TABLE active_models;
    `,
  },
  {
    version: 6,
    name: "fleet: reports waiting for the broker, and the announcements and commands already handled",
    // A report is kept until the hub's broker acknowledged it; an announcement (retained, so delivered
    // again at every connect) is handled once per rollout, model, version and hash; a command (QoS 1, so
    // delivered again when its acknowledgement was lost) once per id.
    sql: `
      CREATE TABLE fleet_outbox (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        body TEXT NOT NULL,
        created_at INTEGER NOT NULL
      );
      CREATE TABLE fleet_announcements (
        rollout TEXT NOT NULL,
        model TEXT NOT NULL,
        version INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        outcome TEXT NOT NULL,
        local_version INTEGER,
        reason TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (rollout, model, version, sha256)
      );
      CREATE TABLE fleet_commands (
        id TEXT PRIMARY KEY,
        received_at INTEGER NOT NULL
      );
    `,
  },
  {
    version: 7,
    name: "file copies for predictors that read model files: pending until they go quiet, and the one to undo",
    // One row per copy-to-dir placement: pending while live predictors stand in its way (retried until
    // written or superseded by a newer one to the same target), done once written. A restore puts the
    // replaced file back after a rollback. Only the newest done row per target is kept.
    sql: `
      CREATE TABLE file_copies (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        model TEXT NOT NULL,
        version INTEGER NOT NULL,
        job TEXT NOT NULL,
        key TEXT,
        kind TEXT NOT NULL CHECK (kind IN ('copy','restore')),
        source TEXT NOT NULL,
        target TEXT NOT NULL,
        previous TEXT,
        state TEXT NOT NULL CHECK (state IN ('pending','done','superseded','failed')),
        reason TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX file_copies_by_target ON file_copies (target, id);
      CREATE INDEX file_copies_pending ON file_copies (state) WHERE state = 'pending';
    `,
  },
  {
    version: 8,
    name: "fleet: when each handled announcement was issued, so that an older one replayed is refused",
    // Rows from before this migration have none; the next announcement handled sets the mark again.
    sql: `
      ALTER TABLE fleet_announcements ADD COLUMN issued_at TEXT;
    `,
  },
  {
    version: 9,
    name: "queued runs: what the scheduler accepted and has not started, so that a crash or a stop keeps it",
    // A row is written when an entry is queued and deleted when its run starts (the run record takes over)
    // or when it leaves the queue unrun. A keyless job's entry has a NULL key: the unique index counts it once.
    sql: `
      CREATE TABLE queued_runs (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job TEXT NOT NULL,
        key TEXT,
        trigger TEXT NOT NULL,
        ignore_governor INTEGER NOT NULL DEFAULT 0,
        ignore_conflicts INTEGER NOT NULL DEFAULT 0,
        queued_at INTEGER NOT NULL
      );
      CREATE UNIQUE INDEX queued_runs_by_entry ON queued_runs (job, ifnull(key, ''));
    `,
  },
  {
    version: 10,
    name: "run processes: each trainer's process group and who started it, so that a restart stops what a crash left",
    // A row is written as a run starts a process (its `run.process` event) and deleted once its group is gone,
    // at the run's end or at the next start; the start times and the boot id tell a reused pid from ours.
    sql: `
      CREATE TABLE run_processes (
        run TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        worker TEXT,
        pid INTEGER NOT NULL,
        pgid INTEGER NOT NULL,
        started INTEGER NOT NULL,
        boot_id TEXT NOT NULL,
        owner_pid INTEGER NOT NULL,
        owner_started INTEGER NOT NULL,
        recorded_at INTEGER NOT NULL,
        PRIMARY KEY (run, pid)
      );
    `,
  },
];
