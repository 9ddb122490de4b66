import type { ProgressReporter } from "../plugin-api.ts";
import type { Output } from "./command.ts";

const WIDTH = 30;

/** A one-line progress bar redrawn in place on a terminal; silent elsewhere (logs and --json stay clean). */
export function progressBar(output: Output, label: string): ProgressReporter & { finish(): void } {
  const started = performance.now();
  let drawn = false;
  let lastDraw = 0;
  return {
    update(done, total, message) {
      if (!output.isTTY) return;
      const now = performance.now();
      if (now - lastDraw < 50 && done < total) return;
      lastDraw = now;
      const fraction = total > 0 ? Math.min(1, done / total) : 0;
      const filled = Math.round(fraction * WIDTH);
      const elapsed = (now - started) / 1000;
      const eta = fraction > 0 && fraction < 1 ? ` eta ${Math.ceil((elapsed / fraction) * (1 - fraction))}s` : "";
      output.write(
        `\r${label} [${"█".repeat(filled)}${"░".repeat(WIDTH - filled)}] ${Math.round(fraction * 100)}% ` +
          `${message ?? `${done}/${total}`} ${elapsed.toFixed(1)}s${eta}\x1b[K`,
      );
      drawn = true;
    },
    finish() {
      if (drawn) output.write("\n");
      drawn = false;
    },
  };
}
