import type { TrainingThreads } from "../plugin-api.ts";

/**
 * How many of a run's threads may train: the governor sets it, strategies and checkpoint(worker) follow it. 0 while
 * the latency guard rests the run between training stretches.
 */
export class ThreadAllowance implements TrainingThreads {
  private value: number | undefined;
  private used: number | undefined;
  private readonly listeners = new Set<(allowed: number | undefined) => void>();
  private readonly usageListeners = new Set<(count: number) => void>();
  private waiters: Array<{ worker: number; resolve: () => void }> = [];

  get allowed(): number | undefined {
    return this.value;
  }

  set(allowed: number | undefined): void {
    const next = allowed === undefined ? undefined : Math.max(0, allowed);
    if (next === this.value) return;
    this.value = next;
    for (const listener of this.listeners) listener(next);
    const released = this.waiters.filter((waiter) => this.mayTrain(waiter.worker));
    this.waiters = this.waiters.filter((waiter) => !this.mayTrain(waiter.worker));
    for (const waiter of released) waiter.resolve();
  }

  subscribe(listener: (allowed: number | undefined) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Threads the run trains on, as it said (`using`) or as its checkpoints show; undefined before either. */
  get inUse(): number | undefined {
    return this.used;
  }

  using(count: number): void {
    if (count === this.used) return;
    this.used = count;
    for (const listener of this.usageListeners) listener(count);
  }

  /** Calls `listener` each time the run trains on a different number of threads; returns the unsubscribe. */
  onUsing(listener: (count: number) => void): () => void {
    this.usageListeners.add(listener);
    return () => this.usageListeners.delete(listener);
  }

  mayTrain(worker: number): boolean {
    return this.value === undefined || worker < this.value;
  }

  /** Resolves at once when thread `worker` may train, or once it may; rejects if `signal` aborts meanwhile. */
  whileHeldBack(worker: number, signal?: AbortSignal): Promise<void> {
    if (worker + 1 > (this.used ?? 0)) this.using(worker + 1);
    if (this.mayTrain(worker)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        worker,
        resolve: () => {
          signal?.removeEventListener("abort", onAbort);
          resolve();
        },
      };
      const onAbort = () => {
        this.waiters = this.waiters.filter((other) => other !== waiter);
        reject(new Error(String(signal?.reason ?? "cancelled while waiting for a core")));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }
}
