import type { Profile } from "../config/schema.ts";
import { EdgetrainError } from "../errors.ts";
import type { ModelDescription } from "../inference/model-metadata.ts";
import { trainingPriority } from "../os/thread-priority.ts";
import type { ScoreReply, ScoringRequest, ScoringRuntime } from "./scoring-protocol.ts";

// A compiled binary holds the thread's module as an extra entry point under its source path from the
// project root (scripts/build.ts); from source it sits next to this file.
const SCORING_MODULE = Bun.isStandaloneExecutable
  ? "./runtime/scoring/scoring-worker.ts"
  : new URL("./scoring-worker.ts", import.meta.url).href;

/**
 * Predicts held-out rows, and reads model files' descriptions, off the serving thread: in a thread started
 * at the first request and ended by `close()`, one per deploy (or accuracy check), so that no thread or
 * session outlives the scoring it was for.
 */
export class ScoringThread {
  private thread?: Worker;
  private nextId = 0;
  private readonly waiting = new Map<
    number,
    { resolve: (reply: ScoreReply & { ok: true }) => void; reject: (error: Error) => void }
  >();

  constructor(private readonly runtime: ScoringRuntime) {}

  /** With the profile's ONNX Runtime backend and threads, at its training priority. */
  static forProfile(profile: Profile, cacheDir: string): ScoringThread {
    return new ScoringThread({
      preference: profile.inference.backend,
      cacheDir,
      threads: profile.inference.threads,
      priority: trainingPriority(profile.governor),
    });
  }

  /**
   * The prediction of each row (class name or value; undefined where the model gives neither). `x` is handed over: the
   * caller must not use it after.
   */
  async predict(
    path: string,
    x: Float32Array,
    rows: number,
    width: number,
    classes: string[],
  ): Promise<Array<string | number | undefined>> {
    // Handed over without a copy, unless x is a view into a larger buffer that the caller still holds.
    const own =
      x.buffer instanceof ArrayBuffer && x.byteLength === x.buffer.byteLength
        ? (x as Float32Array<ArrayBuffer>)
        : new Float32Array(x);
    const reply = await this.ask(
      { kind: "score", id: this.nextId++, runtime: this.runtime, path, x: own, rows, width, classes },
      [own.buffer],
    );
    return "predicted" in reply ? reply.predicted : [];
  }

  /** What edgetrain stored in the model file (feature names, classes); undefined for a model without it. */
  async describe(path: string): Promise<ModelDescription | undefined> {
    const reply = await this.ask({ kind: "describe", id: this.nextId++, runtime: this.runtime, path }, []);
    return "description" in reply ? (reply.description ?? undefined) : undefined;
  }

  close(): void {
    this.thread?.terminate();
    this.thread = undefined;
    this.failAll(new EdgetrainError("run_failed", "scoring stopped: the deploy ended"));
  }

  private ask(request: ScoringRequest, transfer: ArrayBuffer[]): Promise<ScoreReply & { ok: true }> {
    return new Promise((resolve, reject) => {
      this.waiting.set(request.id, { resolve, reject });
      this.start().postMessage(request, transfer);
    });
  }

  private start(): Worker {
    if (this.thread) return this.thread;
    const thread = new Worker(SCORING_MODULE);
    thread.onmessage = (event: MessageEvent<ScoreReply>) => {
      const reply = event.data;
      const waiter = this.waiting.get(reply.id);
      this.waiting.delete(reply.id);
      if (reply.ok) waiter?.resolve(reply);
      else waiter?.reject(new EdgetrainError("run_failed", reply.message));
    };
    thread.onerror = (event) => {
      this.thread = undefined;
      this.failAll(new EdgetrainError("run_failed", `the scoring thread failed: ${event.message}`));
    };
    this.thread = thread;
    return thread;
  }

  private failAll(error: Error): void {
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}
