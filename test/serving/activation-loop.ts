// Child process for the crash-safety test: adds and activates versions as fast as it can until killed.
import type { Database } from "bun:sqlite";
import { join } from "node:path";
import { openState } from "../../runtime/state/database.ts";
import { ModelStore } from "../../runtime/store/model-store.ts";

const [home, artifactA, artifactB] = process.argv.slice(2) as [string, string, string];
const state = openState(join(home, "state"));
const store = new ModelStore(join(home, "models"), state.db as Database, 2);
const metadata = { job: "activity", key: "player_1", metrics: { accuracy: 0.5 }, feature_names: [] as string[] };
for (let i = 0; ; i++) {
  const added = await store.addVersion("activity-player_1", i % 2 ? artifactA : artifactB, metadata);
  await store.activate("activity-player_1", added.version);
  if (i === 2) process.stdout.write("ready\n");
  if (i % 3 === 0) await store.rollback("activity-player_1", "loop");
}
