import { accessSync, constants, statSync } from "node:fs";
import { relative } from "node:path";
import { EdgetrainError } from "../errors.ts";

/** How often the home is looked at: a stat per file, a cheap call. */
const CHECK_EVERY_MS = 1000;

/** A file deleted and made again at the same path is another file: the device and inode tell. */
interface Identity {
  dev: number;
  ino: number;
}

export interface HomeWatchOptions {
  home: string;
  /** Files whose removal or replacement means the home is gone: the home's lock, the state database. */
  files: string[];
  /** Folders the daemon must be able to write in, the home first. */
  writable: string[];
  /** Called once, with what was found, in words. */
  onLost(reason: string): void;
  everyMs?: number;
}

/**
 * Notices the home disappearing under a running daemon (`rm -rf`, a volume unmounted or remounted
 * read-only): a daemon that went on would write its state into a deleted database and rebuild folders in
 * a half-empty home, where a daemon that stops is restarted clean by systemd.
 */
export class HomeWatch {
  private readonly identities = new Map<string, Identity>();
  private timer?: ReturnType<typeof setInterval>;
  /** What was found wrong, once it was: onLost is called once. */
  private lost?: string;

  constructor(private readonly options: HomeWatchOptions) {
    for (const file of options.files) {
      const { dev, ino } = statSync(file);
      this.identities.set(file, { dev, ino });
    }
    this.timer = setInterval(() => this.lostNow(), options.everyMs ?? CHECK_EVERY_MS);
    // Watching must never be what keeps the process alive.
    this.timer.unref();
  }

  /**
   * Whether the home is lost, looking now rather than at the next tick: a write that failed may be the first
   * sign. The first time it is, onLost is called and the watch ends.
   */
  lostNow(): boolean {
    if (this.lost !== undefined) return true;
    this.lost = this.check();
    if (this.lost === undefined) return false;
    this.dispose();
    this.options.onLost(this.lost);
    return true;
  }

  /** What is wrong with the home, in words, or undefined while it is whole. */
  check(): string | undefined {
    for (const folder of this.options.writable) {
      try {
        accessSync(folder, constants.W_OK);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return `${this.name(folder)} is gone`;
        return `${this.name(folder)} is no longer writable (${code})`;
      }
    }
    for (const [file, known] of this.identities) {
      let now: Identity;
      try {
        now = statSync(file);
      } catch {
        return `${this.name(file)} is gone`;
      }
      if (now.dev !== known.dev || now.ino !== known.ino) return `${this.name(file)} was replaced by another file`;
    }
    return undefined;
  }

  dispose(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** A path as the user knows it: relative to the home, or the home itself. */
  private name(path: string): string {
    const inside = relative(this.options.home, path);
    return inside === "" ? "the folder" : inside.startsWith("..") ? path : inside;
  }
}

/** The condition as an error: exit code 70, so that systemd's Restart=on-failure starts a clean daemon. */
export function homeLostError(home: string, reason: string): EdgetrainError {
  const message = `the home ${home} was deleted or made unwritable under the running daemon (${reason})`;
  return new EdgetrainError("home_lost", `${message}: stopping without writing there`, {
    details: { home, reason },
    hint: "restore the home, or start edgetrain again to begin with an empty one; under systemd it restarts by itself",
  });
}
