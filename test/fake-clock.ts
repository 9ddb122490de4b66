import type { Clock } from "../runtime/plugin-api.ts";

/** A clock whose time moves only when a test says: `advance(7 * DAY)` runs a week of timers in order. */
export class FakeClock implements Clock {
  private timers: Array<{ id: number; at: number; callback: () => void; every?: number }> = [];
  private nextId = 1;

  constructor(private current: number) {}

  now(): number {
    return this.current;
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ id, at: this.current + Math.max(0, ms), callback });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers = this.timers.filter((timer) => timer.id !== handle);
  }

  setInterval(callback: () => void, ms: number): unknown {
    const id = this.nextId++;
    this.timers.push({ id, at: this.current + ms, callback, every: ms });
    return id;
  }

  clearInterval(handle: unknown): void {
    this.clearTimeout(handle);
  }

  advance(ms: number): void {
    const until = this.current + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at || a.id - b.id);
      const due = this.timers[0];
      if (!due || due.at > until) break;
      this.current = due.at;
      if (due.every) due.at += due.every;
      else this.timers.shift();
      due.callback();
    }
    this.current = until;
  }
}
