import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { seededRandom } from "../../plugins/strategies/shared/random.ts";
import { writeAtomically } from "../files/write-atomically.ts";

/**
 * Synthetic wearable sessions for the demo, made by edgetrain itself (no Python): the layout and the
 * generative model of ../shared/tools/make_athletes.py. Players differ in physiology and drift slowly from
 * session to session, so a model of the latest sessions predicts the next one best.
 */
export const LABELS = ["rest", "walk", "jog", "run", "sprint"] as const;

const BASE: Record<string, number[]> = {
  hr: [62, 95, 135, 158, 182],
  speed: [0.0, 1.4, 2.8, 4.2, 7.0],
  cadence: [0, 105, 158, 172, 190],
  stride_len: [0.0, 0.75, 1.05, 1.45, 2.2],
  acc_mean: [0.05, 0.9, 1.8, 2.6, 4.1],
  acc_std: [0.02, 0.35, 0.7, 0.95, 1.5],
  gyro_mean: [0.1, 1.1, 2.2, 2.9, 4.4],
  gyro_std: [0.05, 0.4, 0.8, 1.0, 1.6],
  vert_osc: [0.0, 4.0, 7.5, 9.0, 10.5],
  ground_ms: [0, 520, 290, 240, 180],
  power_w: [0, 120, 260, 360, 620],
  skin_temp: [33.0, 33.4, 34.1, 34.6, 35.2],
  resp_rate: [13, 18, 28, 36, 48],
  hrv_ms: [65, 48, 32, 24, 15],
  elev_gain: [0.0, 0.02, 0.05, 0.06, 0.08],
  lat_acc: [0.01, 0.2, 0.35, 0.45, 0.9],
};
export const FEATURES = Object.keys(BASE);
const NOISE = 0.55;
const CLASS_WEIGHTS = [0.15, 0.25, 0.25, 0.25, 0.1];
const START = Date.UTC(2026, 0, 5, 9, 0, 0);

function normal(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

export interface AthleteOptions {
  players: number;
  sessions: number;
  rows: number;
  seed: number;
}

export interface Player {
  id: number;
  offsets: number[];
  drift: number[];
}

export function players(options: Pick<AthleteOptions, "players" | "seed">): Player[] {
  const next = seededRandom(options.seed);
  return Array.from({ length: options.players }, (_, i) => ({
    id: i + 1,
    offsets: FEATURES.map(() => normal(next) * 0.08),
    drift: FEATURES.map(() => normal(next) * 0.1),
  }));
}

/** One session's CSV text: timestamp, the features, label. */
export function sessionCsv(player: Player, session: number, rows: number, seed: number): string {
  const next = seededRandom(seed * 100_003 + player.id * 1009 + session);
  const labels = new Array<number>(rows);
  for (let i = 0; i < rows; ) {
    let pick = next();
    let label = 0;
    while (label < CLASS_WEIGHTS.length - 1 && pick >= CLASS_WEIGHTS[label]!) pick -= CLASS_WEIGHTS[label++]!;
    const length = 20 + Math.floor(next() * 160);
    for (let j = i; j < Math.min(rows, i + length); j++) labels[j] = label;
    i += length;
  }
  const spread = FEATURES.map(() => 0.6 + 0.8 * next());
  const day = START + 2 * (session - 1) * 86_400_000;
  const lines = [`timestamp,${FEATURES.join(",")},label`];
  for (let r = 0; r < rows; r++) {
    const label = labels[r]!;
    const values = FEATURES.map((name, k) => {
      const profile = BASE[name]!;
      const scale = profile.reduce((sum, value) => sum + Math.abs(value), 0) / profile.length + 1e-3;
      const mean = profile[label]! * (1 + player.offsets[k]!) + player.drift[k]! * session * scale;
      return (mean + normal(next) * NOISE * scale * spread[k]!).toFixed(4);
    });
    lines.push(`${new Date(day + r * 1000).toISOString().slice(0, 19)},${values.join(",")},${LABELS[label]}`);
  }
  return `${lines.join("\n")}\n`;
}

export function sessionFileName(player: number, session: number): string {
  const day = new Date(START + 2 * (session - 1) * 86_400_000).toISOString().slice(0, 10).replaceAll("-", "");
  return `TR${session}_A${player}_D${String(session).padStart(3, "0")}_${day}.csv`;
}

/** Writes player_N/TRk_*.csv under `dir`, each file atomically so a watcher never sees half of one. */
export function writeAthletes(dir: string, options: AthleteOptions, sessions?: { from: number; to: number }): string[] {
  const written: string[] = [];
  for (const player of players(options)) {
    const folder = join(dir, `player_${player.id}`);
    mkdirSync(folder, { recursive: true });
    for (let s = sessions?.from ?? 1; s <= (sessions?.to ?? options.sessions); s++) {
      written.push(
        writeAtomically(join(folder, sessionFileName(player.id, s)), sessionCsv(player, s, options.rows, options.seed)),
      );
    }
  }
  return written;
}

/** One more session for one player (the demo's "new session lands"). */
export function writeSession(dir: string, options: AthleteOptions, playerId: number, session: number): string {
  const player = players(options).find((p) => p.id === playerId);
  if (!player) throw new Error(`no player ${playerId}`);
  mkdirSync(join(dir, `player_${playerId}`), { recursive: true });
  return writeAtomically(
    join(dir, `player_${playerId}`, sessionFileName(playerId, session)),
    sessionCsv(player, session, options.rows, options.seed),
  );
}
