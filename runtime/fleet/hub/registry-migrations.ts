/**
 * The hub's registry schema, numbered like the daemon's (runtime/state/migrations.ts) and applied by the
 * same mechanism. Never edit a released migration: add the next number. Times are milliseconds.
 */
export const registryMigrations: ReadonlyArray<{ version: number; name: string; sql: string }> = [
  {
    version: 1,
    name: "devices, heartbeats, model versions, rollouts and their devices, reports, commands",
    sql: `
      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        name TEXT,
        location TEXT,
        groups TEXT NOT NULL DEFAULT '[]',
        info TEXT,
        transport TEXT NOT NULL DEFAULT 'mqtt',
        online INTEGER NOT NULL DEFAULT 0,
        status_at INTEGER,
        registered_at INTEGER NOT NULL,
        last_heartbeat_at INTEGER
      );
      CREATE TABLE device_groups (
        device TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
        name TEXT NOT NULL,
        PRIMARY KEY (name, device)
      );
      CREATE TABLE device_models (
        device TEXT NOT NULL REFERENCES devices (id) ON DELETE CASCADE,
        model TEXT NOT NULL,
        version INTEGER,
        metrics TEXT,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (device, model)
      );
      -- resolution: 0 as received, 60000 once downsampled to one a minute.
      CREATE TABLE heartbeats (
        device TEXT NOT NULL,
        at INTEGER NOT NULL,
        resolution INTEGER NOT NULL DEFAULT 0,
        data TEXT NOT NULL
      );
      CREATE INDEX heartbeats_by_device ON heartbeats (device, at);
      CREATE INDEX heartbeats_by_time ON heartbeats (at);
      CREATE TABLE model_files (
        model TEXT NOT NULL,
        version INTEGER NOT NULL,
        file TEXT NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT NOT NULL,
        task TEXT NOT NULL,
        feature_names TEXT NOT NULL,
        classes TEXT,
        created_at INTEGER NOT NULL,
        PRIMARY KEY (model, version)
      );
      CREATE TABLE rollouts (
        id TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        version INTEGER NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('publish','rollback')),
        device_group TEXT,
        waves TEXT NOT NULL,
        max_failures REAL NOT NULL,
        wave_timeout_ms INTEGER NOT NULL,
        wave INTEGER NOT NULL DEFAULT 0,
        wave_started_at INTEGER,
        state TEXT NOT NULL CHECK (state IN ('running','paused','halted','aborted','completed')),
        reason TEXT,
        created_at INTEGER NOT NULL,
        ended_at INTEGER
      );
      -- One row per device the rollout covers; wave is where it falls, announced once its wave starts.
      CREATE TABLE rollout_devices (
        rollout TEXT NOT NULL REFERENCES rollouts (id) ON DELETE CASCADE,
        device TEXT NOT NULL,
        wave INTEGER NOT NULL,
        state TEXT NOT NULL CHECK (state IN
          ('waiting','announced','verified','activated','rejected','failed','rolled_back','cancelled')),
        announcement TEXT,
        reason TEXT,
        announced_at INTEGER,
        reported_at INTEGER,
        PRIMARY KEY (rollout, device)
      );
      CREATE INDEX rollout_devices_by_device ON rollout_devices (device, state);
      CREATE TABLE reports (
        id TEXT PRIMARY KEY,
        device TEXT NOT NULL,
        kind TEXT NOT NULL,
        at INTEGER NOT NULL,
        data TEXT NOT NULL
      );
      CREATE INDEX reports_by_device ON reports (device, at);
      CREATE TABLE commands (
        id TEXT PRIMARY KEY,
        device TEXT NOT NULL,
        command TEXT NOT NULL,
        message TEXT NOT NULL,
        state TEXT NOT NULL CHECK (state IN ('pending','sent','done','failed')),
        result TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX commands_by_device ON commands (device, state);
    `,
  },
  {
    version: 2,
    name: "score summaries of devices' score runs, for drift detection",
    sql: `
      -- report: the score report's id; at: when the device scored; data: the report's figures as JSON.
      CREATE TABLE score_summaries (
        report TEXT PRIMARY KEY,
        device TEXT NOT NULL,
        model TEXT NOT NULL,
        version INTEGER NOT NULL,
        at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        data TEXT NOT NULL
      );
      CREATE INDEX score_summaries_by_model ON score_summaries (model, device, at);
    `,
  },
  {
    version: 3,
    name: "the device's own number for the model version it runs, beside the hub's",
    sql: `
      -- version: the hub's number (null for a version trained or imported on the device); local_version: the
      -- device's. Rows from before held the device's number alone, taken for both until the next heartbeat.
      ALTER TABLE device_models ADD COLUMN local_version INTEGER;
      UPDATE device_models SET local_version = version;
    `,
  },
  {
    version: 4,
    name: "each time a rollout halted, and when a person resumed it",
    sql: `
      -- A JSON array of {at, reason, resumed_at}; null for a rollout that never halted.
      ALTER TABLE rollouts ADD COLUMN halts TEXT;
      UPDATE rollouts SET halts = json_array(json_object('at', ended_at, 'reason', reason, 'resumed_at', NULL))
        WHERE state = 'halted';
    `,
  },
  {
    version: 5,
    name: "score summaries under the hub's number of the version that scored, beside the device's",
    sql: `
      -- version: the hub's number (null for a version trained or imported on the device); local_version: the
      -- device's. Summaries from before held the device's number alone, taken for both. local_version may be
      -- null in a row a PostgreSQL mirror kept from before: it is the version then.
      CREATE TABLE score_summaries_by_hub (
        report TEXT PRIMARY KEY,
        device TEXT NOT NULL,
        model TEXT NOT NULL,
        version INTEGER,
        local_version INTEGER,
        at INTEGER NOT NULL,
        received_at INTEGER NOT NULL,
        data TEXT NOT NULL
      );
      INSERT INTO score_summaries_by_hub (report, device, model, version, local_version, at, received_at, data)
        SELECT report, device, model, version, version, at, received_at, data FROM score_summaries;
      DROP TABLE score_summaries;
      ALTER TABLE score_summaries_by_hub RENAME TO score_summaries;
      CREATE INDEX score_summaries_by_model ON score_summaries (model, device, at);
    `,
  },
  {
    version: 6,
    name: "when a person last resumed a rollout's current wave, from when its timeout counts",
    sql: `
      -- Null until a resume, and again when the next wave starts.
      ALTER TABLE rollouts ADD COLUMN wave_resumed_at INTEGER;
    `,
  },
];
