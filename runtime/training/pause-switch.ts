import type { PauseState } from "../plugin-api.ts";

/** The pause state of one run: the governor flips it, strategies and checkpoint() follow it. */
export class PauseSwitch implements PauseState {
  private state = false;
  private readonly listeners = new Set<(paused: boolean) => void>();
  private waiters: Array<() => void> = [];

  get paused(): boolean {
    return this.state;
  }

  set(paused: boolean): void {
    if (paused === this.state) return;
    this.state = paused;
    for (const listener of this.listeners) listener(paused);
    if (!paused) {
      for (const resolve of this.waiters) resolve();
      this.waiters = [];
    }
  }

  subscribe(listener: (paused: boolean) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves at once when running, or when the run is resumed; rejects if `signal` aborts meanwhile. */
  whilePaused(signal?: AbortSignal): Promise<void> {
    if (!this.state) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const onAbort = () => reject(new Error(String(signal?.reason ?? "cancelled while paused")));
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(() => {
        signal?.removeEventListener("abort", onAbort);
        resolve();
      });
    });
  }
}
