import { join } from "node:path";
import { runCli, type TempDir } from "../helpers.ts";

/** A deterministic stream of rows: heart rate and speed; `run` above 120 bpm, and a pace a regression can learn. */
export function rowsText(count: number, seed: number, withLabels = true): string {
  let state = seed;
  const next = () => (state = (state * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const lines: string[] = [];
  for (let i = 0; i < count; i++) {
    const hr = 60 + next() * 120;
    const speed = next() * 5;
    const labels = withLabels ? `,${hr > 120 ? "run" : "walk"},${(hr / 20 + speed).toFixed(3)}` : "";
    lines.push(`r${seed}-${i},${hr.toFixed(2)},${speed.toFixed(3)}${labels}`);
  }
  return `${lines.join("\n")}\n`;
}

export const HEADER = "id,hr,speed";

/**
 * A home whose profile has the training jobs `activity` (classes run/walk) and `pace` (a value), each
 * trained once so that its model has an active version, and the score jobs given in `scoreJobs` (YAML).
 */
export async function homeWithModels(dir: TempDir, scoreJobs: string, extra = ""): Promise<string> {
  const home = join(dir.path, "home");
  dir.write("home/data/train.csv", `${HEADER},label,pace\n${rowsText(1500, 7)}`);
  dir.write(
    "home/profile.yaml",
    `extends: base
paths:
  home: ${home}
governor: { max_cpu_before: 100, max_memory_before: 100, pause_cpu: 100, pause_memory: 100 }
${extra}jobs:
  activity:
    strategy: random-forest
    options: { n_estimators: 8, max_depth: 6, task: classification }
    data: { source: rows, path: train.csv, exclude: [pace], debounce: 0 }
  pace:
    strategy: random-forest
    options: { n_estimators: 8, max_depth: 6, task: regression }
    data: { source: rows, path: train.csv, label: pace, exclude: [label], debounce: 0 }
${scoreJobs}`,
  );
  for (const job of ["activity", "pace"]) await train(home, job);
  return home;
}

/** `edgetrain train JOB --force --json` in a child process: its runs, or a failure with stderr. */
export async function train(
  home: string,
  job: string,
): Promise<Array<Record<string, unknown> & { status: string; error?: string }>> {
  const result = await runCli(["train", job, "--home", home, "--force", "--json"], { home });
  if (!result.stdout.trim()) throw new Error(`edgetrain train ${job} printed nothing: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { runs: Array<Record<string, unknown> & { status: string }> }).runs;
}
