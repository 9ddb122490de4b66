import { messageOf } from "../errors.ts";
import type { Logger } from "../plugin-api.ts";

/** A step slower than this is named in the log: a stop that hangs should say what it waited for. */
const SLOW_MS = 500;

/**
 * What was started, in order, each with how to dispose of it. Disposing runs the steps in reverse
 * order of start, once each; a step that fails is logged and the rest still run, so it never throws.
 */
export class Disposals {
  private readonly steps: Array<{ name: string; dispose: () => unknown }> = [];

  constructor(private readonly logger: Pick<Logger, "warn">) {}

  /** Registers what to do at stop for something just started; `name` completes "could not stop …". */
  add(name: string, dispose: () => unknown): void {
    this.steps.push({ name, dispose });
  }

  async dispose(): Promise<void> {
    for (let step = this.steps.pop(); step; step = this.steps.pop()) {
      const began = performance.now();
      try {
        await step.dispose();
      } catch (error) {
        this.logger.warn(`could not stop ${step.name} cleanly`, { error: messageOf(error) });
      }
      const took = performance.now() - began;
      if (took > SLOW_MS) this.logger.warn(`stopping ${step.name} took ${Math.round(took)} ms`);
    }
  }
}
