import { chmodSync } from "node:fs";
import { join } from "node:path";
import type { GovernorFeedParts } from "../../runtime/governor/feed.ts";
import { Governor, type GovernorLimits } from "../../runtime/governor/governor.ts";
import type { Sample } from "../../runtime/governor/sampler.ts";
import { testFeed } from "./test-feed.ts";

type Dir = { path: string; write(relative: string, text: string): string };

/** A stand-in for nvidia-smi or tegrastats running `script` (sh), first on a PATH of its own; returns that PATH. */
export function standInScript(dir: Dir, name: string, script: string): string {
  const file = dir.write(`bin/${name}`, `#!/bin/sh\n${script}\n`);
  chmodSync(file, 0o755);
  return `${join(dir.path, "bin")}:/usr/bin:/bin`;
}

/** A stand-in replaying a recording each interval, as `nvidia-smi -lms` and `tegrastats --interval` print. */
export function standIn(dir: Dir, name: string, recording: string): string {
  return standInScript(dir, name, `while true; do cat '${recording}'; sleep 0.05; done`);
}

/** A governor fed by the real feed with a stand-in GPU reader; resolves once a sample carries a GPU reading. */
export async function feedWith(
  toolPath: string,
  governorLimits: GovernorLimits,
  dir: { path: string },
  parts: Partial<GovernorFeedParts> = {},
) {
  const governor = new Governor(governorLimits);
  const samples: Sample[] = [];
  // No sysfs GPU load node under this root: the feed starts the reader it finds on toolPath.
  const { feed, clock, state } = testFeed(dir, governor, {
    hostRoot: "/",
    toolPath,
    afterSample: (sample) => samples.push(sample),
    ...parts,
  });
  feed.start();
  return {
    governor,
    samples,
    clock,
    /** Samples until the reader has answered (it is a real process), then `count` more. */
    async sampleAfterReading(count: number, read: (sample: Sample) => boolean) {
      const deadline = Date.now() + 5000;
      do {
        await Bun.sleep(50);
        clock.advance(1000);
      } while (!read(samples.at(-1)!) && Date.now() < deadline);
      for (let i = 1; i < count; i++) clock.advance(1000);
    },
    dispose() {
      feed.dispose();
      state.close();
    },
  };
}
