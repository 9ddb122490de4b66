import type { Job } from "../config/schema.ts";

/** The plugin a job runs: its strategy, or for a score job its score plugin (the schema allows one of the two). */
export function jobPlugin(job: Pick<Job, "strategy" | "score">): { kind: "strategy" | "score"; name: string } {
  return job.score !== undefined ? { kind: "score", name: job.score } : { kind: "strategy", name: job.strategy ?? "" };
}
