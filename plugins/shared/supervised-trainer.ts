import { createWriteStream, existsSync, mkdirSync } from "node:fs";
import { isAbsolute, join } from "node:path";
import type { EventSink, PluginLibraries, ProgressReporter } from "../../runtime/plugin-api.ts";
import { ProcessGroup } from "./process-group.ts";
import { lineSplitter, parseTrainerLine, type TrainerMessage } from "./trainer-protocol.ts";

export interface TrainerSettings {
  command: string[];
  env: Record<string, string | undefined>;
  heartbeatTimeoutMs: number;
  onStall: "kill" | "restart";
  maxRestarts: number;
  graceMs: number;
  logTailLines: number;
  memoryLimitMb?: number;
  processGroupMembers: (group: number) => number[];
  /** The host's PluginLibraries.diesWithEdgetrain: a trainer does not outlive an edgetrain killed outright. */
  diesWithEdgetrain: PluginLibraries["diesWithEdgetrain"];
  writeAtomically: (path: string, content: string) => string;
}

export interface Checkpoint {
  path: string;
  metrics: Record<string, number>;
  at: string;
}

/** What one worker did; also written to its folder as `status.json` while it runs. */
export interface TrainerReport {
  id: number;
  dir: string;
  pid?: number;
  status: "starting" | "running" | "paused" | "stalled" | "succeeded" | "failed" | "cancelled";
  restarts: number;
  lastHeartbeat?: { at: string; [field: string]: unknown };
  checkpoints: Checkpoint[];
  artifact?: { path: string; metrics: Record<string, number> };
  logTail: string[];
  error?: string;
}

type Ending =
  | { kind: "exit"; code: number | null; signal: string | null }
  | { kind: "stalled" }
  | { kind: "memory"; rssMb: number }
  | { kind: "cancelled" };

/**
 * Runs one copy of an external trainer: reads its protocol lines, keeps heartbeat, checkpoints and log
 * tail, notices a stall, stops it over the memory limit, pauses it with SIGSTOP, restarts it on a stall
 * if asked, and cleans up its process group whatever happens.
 */
export class SupervisedTrainer {
  readonly report: TrainerReport;
  private group?: ProcessGroup;
  private lastBeat = Date.now();
  private paused = false;
  /** Heartbeats seen, over restarts: a staged run probes a worker until its second one. */
  heartbeats = 0;

  constructor(
    id: number,
    dir: string,
    private readonly settings: TrainerSettings,
    private readonly events: EventSink,
    private readonly progress: ProgressReporter,
  ) {
    mkdirSync(dir, { recursive: true });
    this.report = { id, dir, status: "starting", restarts: 0, checkpoints: [], logTail: [] };
  }

  setPaused(paused: boolean): void {
    // Asked again for the state it is in (pause and thread allowance both ask): the heartbeat clock must not restart.
    if (paused === this.paused) return;
    this.paused = paused;
    if (!this.group?.running) return;
    this.group.signal(paused ? "SIGSTOP" : "SIGCONT");
    // Time spent stopped is not silence: the heartbeat clock starts again on resume.
    if (!paused) this.lastBeat = Date.now();
    this.update(paused ? "paused" : "running");
  }

  /** Resident memory of the trainer's process group now, MB (0 before it starts and after it ends). */
  rssMb(): number {
    return this.group?.running ? this.group.rssMb() : 0;
  }

  /** The live pids of its process group, for per-process GPU readings. */
  pids(): number[] {
    return this.group?.running ? this.settings.processGroupMembers(this.group.pid) : [];
  }

  get id(): number {
    return this.report.id;
  }

  get running(): boolean {
    return this.group?.running ?? false;
  }

  async run(signal: AbortSignal): Promise<TrainerReport> {
    for (;;) {
      const ending = await this.runOnce(signal);
      if (
        ending.kind === "stalled" &&
        this.settings.onStall === "restart" &&
        this.report.restarts < this.settings.maxRestarts &&
        !signal.aborted
      ) {
        this.report.restarts++;
        this.log(
          `edgetrain: no heartbeat for ${this.settings.heartbeatTimeoutMs / 1000} s; restarting ` +
            `(${this.report.restarts}/${this.settings.maxRestarts})`,
        );
        continue;
      }
      return this.finish(ending);
    }
  }

  private async runOnce(signal: AbortSignal): Promise<Ending> {
    const options = { cwd: this.report.dir, env: this.settings.env };
    const command = this.settings.diesWithEdgetrain(this.settings.command, options);
    const group = new ProcessGroup(command, options, this.settings.processGroupMembers);
    this.group = group;
    this.report.pid = group.pid;
    // The host counts this process group's CPU as edgetrain's own, not as the machine being busy.
    this.events.emit("run.process", { worker: this.report.id, pid: group.pid });
    this.lastBeat = Date.now();
    this.update("running");
    if (this.paused) group.signal("SIGSTOP");
    const logFile = createWriteStream(join(this.report.dir, "train.log"), { flags: "a" });
    const stdout = lineSplitter((line) => this.onLine(line, logFile));
    const stderr = lineSplitter((line) => this.log(line, logFile));
    group.child.stdout?.on("data", (chunk) => stdout.push(chunk));
    group.child.stderr?.on("data", (chunk) => stderr.push(chunk));

    let ending: Ending | undefined;
    const stop = (why: Ending) => {
      ending ??= why;
      void group.stop(this.settings.graceMs);
    };
    const onAbort = () => stop({ kind: "cancelled" });
    signal.addEventListener("abort", onAbort, { once: true });
    if (signal.aborted) onAbort();
    const watch = setInterval(
      () => {
        if (this.paused || ending) return;
        if (Date.now() - this.lastBeat > this.settings.heartbeatTimeoutMs) {
          this.update("stalled");
          this.events.emit("run.stalled", {
            worker: this.report.id,
            pid: group.pid,
            silent_s: Math.round((Date.now() - this.lastBeat) / 1000),
          });
          stop({ kind: "stalled" });
          return;
        }
        if (this.settings.memoryLimitMb !== undefined) {
          const rssMb = group.rssMb();
          if (rssMb > this.settings.memoryLimitMb) stop({ kind: "memory", rssMb });
        }
      },
      Math.max(50, Math.min(1000, this.settings.heartbeatTimeoutMs / 4)),
    );

    const exit = await group.exited;
    clearInterval(watch);
    signal.removeEventListener("abort", onAbort);
    // Pipes can deliver their last lines after the exit event.
    await Promise.all([once(group.child.stdout), once(group.child.stderr)]);
    stdout.end();
    stderr.end();
    // Grandchildren left behind by a trainer that exited on its own go too: no orphans.
    await group.stop(this.settings.graceMs);
    await new Promise((resolve) => logFile.end(resolve));
    return ending ?? { kind: "exit", code: exit.code, signal: exit.signal };
  }

  private onLine(line: string, logFile: NodeJS.WritableStream): void {
    const message = parseTrainerLine(line);
    if (!message) {
      this.log(line, logFile);
      return;
    }
    logFile.write(`${line}\n`);
    this.onMessage(message);
  }

  private onMessage(message: TrainerMessage): void {
    const at = new Date().toISOString();
    if (message.event === "heartbeat") {
      this.lastBeat = Date.now();
      this.heartbeats++;
      const { event: _event, ...fields } = message;
      this.report.lastHeartbeat = { at, ...fields };
      const epoch = typeof message.epoch === "number" ? message.epoch : undefined;
      const total = typeof message.epochs === "number" ? message.epochs : 0;
      const loss = typeof message.loss === "number" ? ` loss ${message.loss.toFixed(4)}` : "";
      this.progress.update(
        epoch ?? (typeof message.step === "number" ? message.step : 0),
        total,
        `worker ${this.report.id}${epoch !== undefined ? ` epoch ${epoch}` : ""}${loss}`,
      );
      this.events.emit("run.heartbeat", { worker: this.report.id, ...fields });
    } else if (message.event === "checkpoint") {
      this.lastBeat = Date.now();
      const checkpoint = { path: this.resolve(message.path), metrics: message.metrics ?? {}, at };
      this.report.checkpoints.push(checkpoint);
      this.events.emit("run.checkpoint", { worker: this.report.id, ...checkpoint });
    } else {
      this.lastBeat = Date.now();
      this.report.artifact = { path: this.resolve(message.path), metrics: message.metrics ?? {} };
    }
    this.writeStatus();
  }

  private log(line: string, logFile?: NodeJS.WritableStream): void {
    logFile?.write(`${line}\n`);
    // Live while the run trains: the run record, /v1/events and the fleet hub follow the trainer's log.
    this.events.emit("run.log", { worker: this.report.id, line });
    this.report.logTail.push(line);
    if (this.report.logTail.length > this.settings.logTailLines) this.report.logTail.shift();
  }

  private resolve(path: string): string {
    return isAbsolute(path) ? path : join(this.report.dir, path);
  }

  private finish(ending: Ending): TrainerReport {
    const tail = this.report.logTail.slice(-3).join(" | ");
    if (ending.kind === "cancelled") this.fail("cancelled", "cancelled");
    else if (ending.kind === "stalled")
      this.fail(
        "stalled",
        `stalled: no heartbeat for ${this.settings.heartbeatTimeoutMs / 1000} ` +
          `s${this.report.restarts ? ` after ${this.report.restarts} restart(s)` : ""}`,
      );
    else if (ending.kind === "memory")
      this.fail(
        "failed",
        `stopped: uses ${Math.round(ending.rssMb)} MB, over governor.memory_limit_mb ${this.settings.memoryLimitMb} MB`,
      );
    else if (ending.code !== 0)
      this.fail(
        "failed",
        `exited with ${ending.signal ? `signal ${ending.signal}` : `code ${ending.code}`}${tail ? `: ${tail}` : ""}`,
      );
    else if (!this.report.artifact)
      this.fail("failed", `exited without reporting an artifact ({"event":"artifact","path":…})`);
    else if (!existsSync(this.report.artifact.path))
      this.fail("failed", `reported artifact ${this.report.artifact.path}, which does not exist`);
    else this.update("succeeded");
    this.writeStatus();
    return this.report;
  }

  private fail(status: TrainerReport["status"], error: string): void {
    this.report.error = `worker ${this.report.id} ${error}`;
    this.update(status);
  }

  private update(status: TrainerReport["status"]): void {
    this.report.status = status;
    this.writeStatus();
  }

  /** status.json in the worker's folder, replaced atomically, so a reader never sees half of it. */
  private writeStatus(): void {
    this.settings.writeAtomically(join(this.report.dir, "status.json"), JSON.stringify(this.report, null, 2));
  }
}

function once(stream: NodeJS.ReadableStream | null | undefined): Promise<void> {
  if (!stream || (stream as { readableEnded?: boolean }).readableEnded) return Promise.resolve();
  return new Promise((resolve) => {
    stream.once("end", resolve);
    stream.once("close", resolve);
    setTimeout(resolve, 1000);
  });
}
