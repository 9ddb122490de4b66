import type { Profile } from "../config/schema.ts";
import type { Asker } from "../conflicts/asker.ts";
import { ConflictClearance } from "../conflicts/clearance.ts";
import type { ServingActivity } from "../conflicts/predictors.ts";
import { cancellation, messageOf } from "../errors.ts";
import type { EventPayloads, Events, EventType } from "../events/bus.ts";
import type { DiskSpace } from "../files/disk-space.ts";
import type { Governor } from "../governor/governor.ts";
import type { OffPeak } from "../offpeak/learn.ts";
import type { Clock, Logger, ResolvedPaths } from "../plugin-api.ts";
import type { PluginRegistry } from "../plugins/registry.ts";
import type { StateDatabase } from "../state/database.ts";
import { listQueuedRuns } from "../state/queued-runs.ts";
import { interruptRunsLeftOver } from "../state/runs.ts";
import type { JobRunner } from "../training/job-runner.ts";
import type { RunOverrides } from "../training/run-overrides.ts";
import type { RunOutcome } from "../training/run-request.ts";
import { DeferralNotes } from "./deferral-notes.ts";
import { OffPeakGate } from "./offpeak-gate.ts";
import { entryId, type QueueEntry, RunQueue } from "./run-queue.ts";
import { joinWaiting, type KeyRequested, type Keys } from "./run-request.ts";
import { startAdmission } from "./start-admission.ts";
import { startTriggers } from "./triggers.ts";

export interface SchedulerParts {
  profile: Profile;
  paths: ResolvedPaths;
  registry: PluginRegistry;
  state: StateDatabase;
  runner: JobRunner;
  governor: Governor;
  logger: Logger;
  events: Events;
  clock: Clock;
  /** How a conflict question reaches a person: the daemon's desk, or nobody when it runs headless. */
  asker: Asker;
  /** /proc, or a recorded tree in tests. */
  procRoot?: string;
  /** edgetrain's own recent serving, for predictors with `serving:`. */
  serving?: ServingActivity;
  /** Called right before a job+key starts: the prediction cache pregenerates answers to keep serving. */
  beforeRun?: (job: string, key: string | undefined) => void;
  /** Whether the home's disk has room for a run; without it (tests, one-shot commands) runs start regardless. */
  disk?: Pick<DiskSpace, "hasRoom" | "message" | "noticed">;
}

/**
 * Triggers say a job+key needs a run; the queue keeps one entry per job+key; the governor says whether
 * it may start now; max_concurrent_runs and priorities say who goes first. Every decision — fired,
 * deferred and why, skipped and why — is an event in the state database. One scheduler lives as long as
 * the daemon: a reload hands it the new profile, and its queue and runs in progress carry over.
 */
export class Scheduler {
  private readonly queue: RunQueue;
  private readonly running = new Map<string, AbortController>();
  private readonly watchers: Array<() => void> = [];
  private readonly deferrals: DeferralNotes;
  private stopped = false;
  /** Set while a reload starts the new profile's triggers: if they fail, the profile that ran comes back. */
  private reloading = false;
  private parts!: SchedulerParts;
  private offPeakGate!: OffPeakGate;
  private clearance!: ConflictClearance;

  constructor(parts: SchedulerParts) {
    this.queue = new RunQueue(parts.state);
    this.deferrals = new DeferralNotes(({ job, key }, reason) =>
      this.decide("run.deferred", { job, key, reason, queued: this.queue.size }),
    );
    this.follow(parts);
  }

  /** The profile's parts, and the conflict clearance and off-peak gate made from them. */
  private follow(parts: SchedulerParts): void {
    this.parts = parts;
    const { profile, paths, clock, asker, logger, procRoot, serving } = parts;
    const record = this.decide.bind(this);
    const home = paths.home;
    this.clearance = new ConflictClearance({ profile, home, clock, asker, logger, procRoot, serving, record });
    this.offPeakGate = new OffPeakGate(parts, record);
  }

  /** Learned from the usage history at start and every hour; undefined until the first reading. */
  get offPeak(): OffPeak | undefined {
    return this.offPeakGate.learned;
  }

  /**
   * Starts the triggers; `recover` (at daemon start, not on reload) first stops the trainers a crash left
   * running and resumes the deploys it cut short, then queues again what a crash or a stop left queued and the
   * runs it interrupted: no trigger sees a model only on its way, and no old trainer trains beside a new one.
   */
  async start(recover = true): Promise<void> {
    await this.offPeakGate.learn();
    const relearn = this.parts.clock.setInterval(() => void this.offPeakGate.learn(), 3_600_000);
    this.watchers.push(() => this.parts.clock.clearInterval(relearn));
    if (recover) await this.parts.runner.recover();
    if (recover) this.requeue();
    await startTriggers(this.parts, (job, reason, keys) => void this.fired(job, reason, keys), this.watchers);
  }

  /**
   * A reloaded profile: its triggers, limits and priorities from now on. The runs in progress go on and count
   * against max_concurrent_runs; the queue carries over, less the entries of a job the profile removed.
   */
  async reload(parts: SchedulerParts): Promise<void> {
    if (this.stopped) return;
    for (const stop of this.watchers.splice(0)) stop();
    this.follow(parts);
    this.reloading = true;
    await this.start(false);
    this.reloading = false;
    for (const entry of this.queue.list()) {
      const settings = this.parts.profile.jobs[entry.job];
      if (settings) entry.priority = settings.priority;
      else this.drop(entry, `${entry.reason}; cancelled by a reload: the job is no longer in the profile`);
    }
    this.pump();
  }

  /** Refuses a run asked for by name that could only be skipped: an unknown job, or a key the job lacks. */
  async checkRequest(job: string, key: string | undefined): Promise<void> {
    // Without a key, fired() lists the job's keys itself: naming the job is all there is to check.
    if (key === undefined) this.parts.runner.jobNamed(job);
    else await this.parts.runner.requireKey(job, key);
  }

  /** A trigger fired (or a person asked): queue one entry per key that needs a run; says what became of each. */
  async fired(job: string, reason: string, keys?: Keys, overrides: RunOverrides = {}): Promise<KeyRequested[]> {
    if (this.stopped) return [];
    this.decide("trigger.fired", { job, reason, keys: keys?.map((key) => key ?? null) ?? "all" });
    let targets: Keys;
    try {
      targets = keys ?? (await this.parts.runner.keysOf(job));
    } catch (error) {
      this.decide("run.skipped", { job, reason: `cannot list the job's keys: ${messageOf(error)}` });
      return [];
    }
    const priority = this.parts.profile.jobs[job]?.priority ?? 0;
    const queuedAt = this.parts.clock.now();
    const taken = targets.map((key) => this.take({ job, key, reason, priority, queuedAt, overrides }));
    this.pump();
    return taken;
  }

  /** One key of a request: a run in progress, an entry already waiting (given what the request adds), or a new one. */
  private take(entry: QueueEntry): KeyRequested {
    const { job, key } = entry;
    if (this.running.has(entryId(job, key))) {
      this.decide("run.skipped", { job, key, reason: "a run of this job and key is in progress; runs never overlap" });
      return { key, result: "running" };
    }
    const waiting = this.queue.get(job, key);
    const release = (target: QueueEntry) => this.clearance.release(target);
    if (waiting) return joinWaiting(waiting, entry, { ...this.parts, release, record: this.decide.bind(this) });
    this.queue.add(entry);
    return { key, result: "queued" };
  }

  /** Queues again what the state kept, in its order, with its first trigger and time; then the interrupted runs. */
  private requeue(): void {
    for (const { job, key, trigger, overrides, queued_at: queuedAt } of listQueuedRuns(this.parts.state)) {
      const reason = `requeued after restart: ${trigger}`;
      const settings = this.parts.profile.jobs[job];
      const entry = { job, key: key ?? undefined, reason, priority: settings?.priority ?? 0, queuedAt, overrides };
      if (settings) this.decide("trigger.fired", { job, reason, keys: [key] });
      if (settings) this.queue.add(entry);
      else this.drop(entry, `${reason}; the job is no longer in the profile`);
    }
    this.recoverInterrupted();
    this.pump();
  }

  /** Starts what may start; called on every trigger, every run's end and every governor sample. */
  pump(): void {
    if (this.stopped) return;
    const limit = this.parts.profile.governor.max_concurrent_runs;
    let governorDeferred = false;
    for (const entry of this.queue.waiting()) {
      if (this.running.size >= limit) return;
      // The entry of a job this reload removes is dropped only once the reload has taken.
      if (this.reloading && !this.parts.profile.jobs[entry.job]) continue;
      const ignoring = entry.overrides.ignoreGovernor === true;
      // The governor defers every run that heeds it alike; a run told to ignore it may still start past them.
      if (governorDeferred && !ignoring) continue;
      const admission = startAdmission(this.parts, ignoring);
      if (!admission.ok) {
        this.deferrals.deferred(entry, admission);
        if ("everyone" in admission) return;
        governorDeferred = true;
        continue;
      }
      if (admission.note) this.parts.logger.warn(admission.note, { job: entry.job, key: entry.key });
      this.deferrals.admitted(ignoring);
      if (!this.offPeakGate.admits(entry)) continue;
      if (!this.clearOfPredictors(entry)) continue;
      this.queue.remove(entry);
      this.launch(entry);
    }
  }

  /** Whether the entry is clear of live predictors; an entry the policy skips leaves the queue. */
  private clearOfPredictors(entry: QueueEntry): boolean {
    const step = this.clearance.check(entry);
    if (step.to === "drop") this.drop(entry, step.reason);
    return step.to === "start";
  }

  private drop(entry: QueueEntry, reason: string): void {
    this.queue.remove(entry);
    this.decide("run.skipped", { job: entry.job, key: entry.key, reason });
  }

  queued(): Array<Omit<QueueEntry, "overrides" | "policy">> {
    return this.queue.list().map(({ overrides: _overrides, policy: _policy, ...entry }) => entry);
  }

  runningCount(): number {
    return this.running.size;
  }

  /** Job+key pairs in progress; a key left out means every key of the job. */
  runningJobs(): Array<{ job: string; key?: string }> {
    return [...this.running.keys()].map((id) => {
      const slash = id.indexOf("/");
      return { job: id.slice(0, slash), key: id.slice(slash + 1) || undefined };
    });
  }

  /** Stops everything: triggers, and runs in progress are cancelled (edgetrain is stopping). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const stop of this.watchers.splice(0)) stop();
    for (const controller of this.running.values()) controller.abort(cancellation("shutdown", "edgetrain is stopping"));
    const deadline = Date.now() + 4000;
    while (this.running.size > 0 && Date.now() < deadline) await Bun.sleep(20);
  }

  private launch(entry: QueueEntry): void {
    const id = entryId(entry.job, entry.key);
    const controller = new AbortController();
    this.running.set(id, controller);
    this.decide("run.starting", { job: entry.job, key: entry.key, reason: entry.reason });
    try {
      this.parts.beforeRun?.(entry.job, entry.key);
    } catch (error) {
      this.parts.logger.warn("could not pregenerate predictions before the run", {
        job: entry.job,
        error: messageOf(error),
      });
    }
    void this.parts.runner
      .run({ job: entry.job, key: entry.key, trigger: entry.reason, signal: controller.signal, ...entry.overrides })
      .then((outcomes: RunOutcome[]) => {
        for (const outcome of outcomes) {
          this.parts.events.emit("run.finished", { ...outcome });
          // Paused too long by a busy machine: the run was cancelled, and it goes back in the queue.
          if (outcome.status === "cancelled" && outcome.cancel_reason === "max_pause") {
            this.running.delete(id);
            void this.fired(outcome.job, `rescheduled: run ${outcome.run} ${outcome.error}`, [outcome.key]);
          }
          // Failed for want of space: it goes back in the queue and waits for the disk with the others.
          if (outcome.status === "failed" && this.parts.disk?.noticed(outcome.error)) {
            this.running.delete(id);
            void this.fired(outcome.job, `rescheduled: run ${outcome.run} failed on a full disk`, [outcome.key]);
          }
        }
      })
      .catch((error) => {
        if (!this.parts.disk?.noticed(error))
          return this.decide("run.skipped", { job: entry.job, key: entry.key, reason: messageOf(error) });
        this.running.delete(id);
        void this.fired(entry.job, `rescheduled: the run could not start on a full disk`, [entry.key]);
      })
      .finally(() => {
        this.running.delete(id);
        this.pump();
      });
  }

  /** Runs the state says were in progress belong to a process that is gone: mark them and run them again. */
  private recoverInterrupted(): void {
    for (const row of interruptRunsLeftOver(this.parts.state.db, this.parts.clock.now())) {
      this.decide("run.interrupted", { run: row.id, job: row.job, key: row.key ?? undefined });
      if (this.parts.profile.jobs[row.job])
        void this.fired(row.job, `rescheduled: run ${row.id} was interrupted`, [row.key ?? undefined]);
    }
  }

  private decide<T extends EventType>(type: T, data: EventPayloads[T]): void {
    this.parts.state.recordEvent(type, data, this.parts.clock.now());
    this.parts.events.emit(type, data);
    this.parts.logger.info(type.replace(".", " "), data);
  }
}
