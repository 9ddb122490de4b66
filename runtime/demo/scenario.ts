import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { gateVerdict } from "../deploy/gate-verdict.ts";
import type { ModelSummary } from "../store/model-store.ts";
import { FEATURES, writeSession } from "./athletes.ts";
import { DEMO_DATA } from "./demo-profile.ts";

export interface DemoClient {
  get<T>(path: string): Promise<T>;
  post<T>(path: string, body: unknown): Promise<{ status: number; body: T }>;
}

export interface DemoReport {
  models: number;
  retrained: { model: string; from?: number; to?: number; gate?: unknown } | undefined;
  unchanged: number;
  answered: number;
  failed: number;
  cachedAnswers: number;
}

type Say = (line: string) => void;

const JOB = "activity";
const PLAYER = 7;

/**
 * The demo's story, told through the HTTP API like any client would: all 30 models trained and serving,
 * then a fifth session for one player, whose model alone retrains, passes the gate and goes live while
 * predictions keep being answered.
 */
export async function runScenario(
  client: DemoClient,
  dataDir: string,
  say: Say,
  timeoutMs = 600_000,
  signal?: AbortSignal,
): Promise<DemoReport> {
  const deadline = Date.now() + timeoutMs;
  const players = DEMO_DATA.players;
  say(`training ${players} player models (random forest, latest 3 sessions, the newest held out)…`);
  let shown = -1;
  const models = await waitFor(
    deadline,
    signal,
    async () => {
      const list = (await client.get<{ models: ModelSummary[] }>("/v1/models")).models.filter(
        (m) => m.job === JOB && m.active !== undefined,
      );
      // Every fifth model, so a terminal shows progress without a line per model.
      if (Math.floor(list.length / 5) !== Math.floor(shown / 5) || (list.length >= players && shown < players))
        say(`  ${list.length}/${players} models serving`);
      shown = list.length;
      return list.length >= players ? list : undefined;
    },
    "all player models to be trained and activated",
  );
  const mean = models.reduce((sum, m) => sum + (m.metrics?.accuracy ?? 0), 0) / models.length;
  say(`all ${models.length} models serving; mean held-out accuracy ${mean.toFixed(3)}`);

  const model = `${JOB}-player_${PLAYER}`;
  const row = FEATURES.map(
    (_, i) => [95, 1.4, 105, 0.75, 0.9, 0.35, 1.1, 0.4, 4, 520, 120, 33.4, 18, 48, 0.02, 0.2][i]!,
  );
  const first = await client.post<{ version: number; outputs: Array<{ label: string }>; cached: boolean }>(
    `/v1/predict/${model}`,
    { inputs: [row] },
  );
  const again = await client.post<{ cached: boolean }>(`/v1/predict/${model}`, { inputs: [row] });
  say(
    `predict ${model}: ${first.body.outputs?.[0]?.label} (version ${first.body.version}); asked again: ` +
      `cached=${again.body.cached}`,
  );

  const before = new Map(models.map((m) => [m.model, m.active]));
  const next = nextSession(join(dataDir, `player_${PLAYER}`));
  writeSession(dataDir, DEMO_DATA, PLAYER, next);
  say(`dropped session TR${next} for player_${PLAYER}; predictions keep going while its model retrains…`);

  let answered = 0;
  let failed = 0;
  let cachedAnswers = 0;
  let running = true;
  const load = (async () => {
    const others = models.map((m) => m.model);
    for (let i = 0; running; i++) {
      const target = i % 2 === 0 ? model : others[i % others.length]!;
      const input = i % 4 < 2 ? row : row.map((value, k) => value + ((i * 7 + k) % 13) * 0.01);
      try {
        const reply = await client.post<{ cached: boolean }>(`/v1/predict/${target}`, { inputs: [input] });
        if (reply.status === 200) {
          answered++;
          if (reply.body.cached) cachedAnswers++;
        } else failed++;
      } catch {
        failed++;
      }
      await Bun.sleep(5);
    }
  })();
  const retrained = await waitFor(
    deadline,
    signal,
    async () => {
      const detail = await client.get<{
        active?: number;
        versions: Array<{ version: number; status: string; gate?: unknown; note?: string }>;
      }>(`/v1/models/${model}`);
      const newest = detail.versions[0];
      if (!newest || newest.version === before.get(model)) return undefined;
      if (newest.status === "active" || newest.status === "rejected" || newest.status === "rolled_back")
        return {
          model,
          from: before.get(model),
          to: detail.active,
          gate: newest.gate,
          status: newest.status,
          note: newest.note,
        };
      return undefined;
    },
    `${model} to retrain`,
  ).finally(() => (running = false));
  await load;
  const after = (await client.get<{ models: ModelSummary[] }>("/v1/models")).models;
  const unchanged = after.filter((m) => m.model !== model && before.get(m.model) === m.active).length;
  say(
    retrained.status === "active"
      ? `${model}: version ${retrained.from} → ${retrained.to}; gate ` +
          `${gateVerdict(retrained.gate) ?? "not in the deploy steps"}`
      : `${model}: the new version was ${retrained.status} (${retrained.note ?? ""}); version ${retrained.to} keeps ` +
          `serving`,
  );
  say(
    `${unchanged} of ${models.length - 1} other models untouched; ${answered} predictions answered during the ` +
      `retrain (${cachedAnswers} from cache), ${failed} failed`,
  );
  return { models: models.length, retrained, unchanged, answered, failed, cachedAnswers };
}

function nextSession(dir: string): number {
  if (!existsSync(dir)) return 1;
  const numbers = readdirSync(dir).map((name) => Number(/^TR(\d+)_/.exec(name)?.[1] ?? 0));
  return Math.max(0, ...numbers) + 1;
}

/** Polls `check` until it has a value; gives up at the deadline, or at once when `signal` aborts (the disk filled). */
async function waitFor<T>(
  deadline: number,
  signal: AbortSignal | undefined,
  check: () => Promise<T | undefined>,
  what: string,
): Promise<T> {
  for (;;) {
    signal?.throwIfAborted();
    const value = await check().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`the demo gave up waiting for ${what}`);
    await Bun.sleep(250);
  }
}
