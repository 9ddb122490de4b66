import { renderProfile } from "../config/render-profile.ts";
import type { ConflictAnswer } from "../conflicts/asker.ts";
import { type ImportRequest, importModel } from "../deploy/model-import.ts";
import { cancellation, EdgetrainError } from "../errors.ts";
import { EventJournal } from "../events/event-journal.ts";
import type { DiskSpace } from "../files/disk-space.ts";
import { ReadingHistory } from "../governor/reading-history.ts";
import type { PredictionRequest } from "../inference/prediction-input.ts";
import { readLogTail } from "../log/log-tail.ts";
import { logFileOptions, silentLogger } from "../log/logger.ts";
import type { DaemonMetrics } from "../metrics/daemon-metrics.ts";
import type { Logger } from "../plugin-api.ts";
import type { RunningProfile, Services } from "../services/services.ts";
import { warmCache } from "../serving/cache-warm.ts";
import type { InferRequest } from "../serving/open-inference.ts";
import type { StateDatabase } from "../state/database.ts";
import { getRun, listRuns, runsInProgress } from "../state/runs.ts";
import { ignoredInWords, type RunOverrides } from "../training/run-overrides.ts";
import { backendMetrics } from "./backend-metrics.ts";
import type { CacheWarmed } from "./contract.ts";
import { daemonStatus, resourceHistory } from "./daemon-status.ts";
import type { DaemonStatus, DaemonView } from "./daemon-view.ts";
import { jobSummaries, offPeakSummary } from "./job-summaries.ts";
import { readiness } from "./readiness.ts";
import { runRequestAnswer } from "./run-request-answer.ts";
import { isLoopback } from "./token.ts";

export interface BackendParts {
  services: Services;
  state: StateDatabase;
  disk: DiskSpace;
  /** The user's home folder: the profile's text shows paths under it with `~`. */
  userHome: string;
  /** When the daemon started, for its uptime. */
  startedAt: number;
  /** For what the API does itself, such as an import; silent when left out. */
  logger?: Logger;
}

type View = DaemonView;

/**
 * What the API reads and asks of a running daemon, answered from its services and the state database.
 * The daemon makes one at start and hands it to the app at each listen.
 */
export class DaemonBackend implements DaemonView {
  private readonly prometheus: DaemonMetrics;
  private apiToken = "";
  /** The api.token the current token came from, if it came from the profile. */
  private configuredToken: string | undefined;
  /** The run's events, numbered, with the newest api.event_buffer kept for clients that reconnect. */
  private readonly journal: EventJournal;
  /** The last hour of readings, kept here so that a client attached later still sees it. */
  private readonly readings = new ReadingHistory();

  constructor(private readonly parts: BackendParts) {
    const { services } = parts;
    this.journal = new EventJournal(() => this.resolved.profile.api.event_buffer, parts.startedAt);
    services.bus.subscribe((event) => {
      this.journal.record(event);
      if (event.type === "governor.reading") this.readings.record(event.data, event.at);
    });
    this.prometheus = backendMetrics(parts, () => this.status());
    services.onPrediction((model, code, seconds) => this.prometheus.observePrediction(model, code, seconds));
  }

  private get resolved(): RunningProfile {
    return this.parts.services.resolved;
  }

  /**
   * The token from now on: api.token, or else one made here and kept until the daemon stops. A profile's token
   * taken out at a reload is not kept: a token an operator removes is one that must stop working.
   */
  chooseToken(): string {
    const configured = this.resolved.profile.api.token;
    if (configured !== undefined) this.apiToken = configured;
    else if (!this.apiToken || this.apiToken === this.configuredToken)
      this.apiToken = crypto.randomUUID().replaceAll("-", "") + crypto.randomUUID().replaceAll("-", "");
    this.configuredToken = configured;
    return this.apiToken;
  }

  token(): string {
    return this.apiToken;
  }

  status(): DaemonStatus {
    return daemonStatus(this.parts, this.resolved, this.cacheStats());
  }

  history(): ReturnType<View["history"]> {
    return resourceHistory(this.readings);
  }

  jobs(): ReturnType<View["jobs"]> {
    return jobSummaries(this.resolved.profile, this.parts.services.scheduler, this.parts.state);
  }

  offPeak(): ReturnType<View["offPeak"]> {
    return offPeakSummary(this.parts.services.scheduler);
  }

  runs(filter: Parameters<View["runs"]>[0]): ReturnType<View["runs"]> {
    return listRuns(this.parts.state.db, filter);
  }

  run(id: string): ReturnType<View["run"]> {
    return getRun(this.parts.state.db, id);
  }

  controlRun(id: string, action: "cancel" | "pause" | "resume"): boolean {
    const control = this.parts.services.activeRuns.get(id);
    if (!control) return false;
    // A resume undoes a person's pause only: saying "resumed" of a run nobody paused would be untrue.
    if (action === "resume" && !control.pausedByPerson) {
      const governor = control.pausedByGovernor ? " by a request: the governor holds it, and resumes it itself" : "";
      throw new EdgetrainError("conflict", `run ${id} is not paused${governor}`, { details: { run: id, action } });
    }
    if (action === "cancel") control.abort.abort(cancellation("person", "cancelled by request"));
    else control.personPause(action === "pause");
    this.parts.services.bus.emit(
      `run.${action === "cancel" ? "cancel_requested" : action === "pause" ? "paused" : "resumed"}`,
      { run: id, by: "request" },
    );
    return true;
  }

  conflicts(): ReturnType<View["conflicts"]> {
    return this.parts.services.desk.list();
  }

  answerConflict(id: string, action: ConflictAnswer, by: string, key?: string): ReturnType<View["answerConflict"]> {
    const { desk, scheduler } = this.parts.services;
    const answered = desk.answer(id, action, by, key);
    // The clearance records the answer (event, state, log) as each waiting key takes it: once, not here too.
    if (answered) scheduler?.pump();
    return answered;
  }

  async requestRun(job: string, key: string | undefined, overrides: RunOverrides): ReturnType<View["requestRun"]> {
    const scheduler = this.parts.services.scheduler!;
    await scheduler.checkRequest(job, key);
    const ignoring = ignoredInWords(overrides);
    const reason = ignoring ? `manual: API, ${ignoring}` : "manual: API";
    const taken = await scheduler.fired(job, reason, key !== undefined ? [key] : undefined, overrides);
    return runRequestAnswer({ job, key, overrides }, taken, runsInProgress(this.parts.state.db));
  }

  models(): ReturnType<View["models"]> {
    return this.parts.services.serving.store.list();
  }

  model(name: string): ReturnType<View["model"]> {
    const { store } = this.parts.services.serving;
    const versions = store.requireVersions(name);
    const shown = versions.find((v) => v.status === "active") ?? versions[0]!;
    return {
      model: name,
      active: store.activeVersion(name),
      versions,
      feature_names: shown.feature_names,
      classes: shown.classes,
    };
  }

  activate(name: string, version: number): ReturnType<View["activate"]> {
    return this.parts.services.serving.activator.activate(name, version, "requested over the API");
  }

  rollback(name: string): ReturnType<View["rollback"]> {
    return this.parts.services.serving.activator.rollback(name, "requested over the API");
  }

  predict(name: string, request: PredictionRequest): ReturnType<View["predict"]> {
    return this.parts.services.serving.service.predict(name, request);
  }

  async importModel(name: string, request: ImportRequest): ReturnType<View["importModel"]> {
    const { services } = this.parts;
    const { profile, paths } = this.resolved;
    const logger = (this.parts.logger ?? silentLogger).child({ model: name });
    return importModel({ profile, paths, store: services.serving.store, deployer: services.deployer, logger }, request);
  }

  async modelSignature(name: string): ReturnType<View["modelSignature"]> {
    const { version, signature } = await this.parts.services.serving.service.signature(name);
    return { version: version.version, signature };
  }

  infer(name: string, request: InferRequest): ReturnType<View["infer"]> {
    return this.parts.services.serving.service.infer(name, request);
  }

  ready(model?: string): ReturnType<View["ready"]> {
    return readiness(this.parts.state, this.parts.services.serving, model);
  }

  cacheStats(): DaemonStatus["cache"] {
    const { service, cacheType } = this.parts.services.serving;
    return { ...service.cacheStats(), type: cacheType };
  }

  clearCache(model?: string): void {
    this.parts.services.serving.service.clearCache(model);
  }

  async warmCache(model?: string): Promise<CacheWarmed> {
    const { store, service } = this.parts.services.serving;
    return { warmed: await warmCache(store, service, model) };
  }

  follow(...args: Parameters<View["follow"]>): ReturnType<View["follow"]> {
    return this.journal.follow(...args);
  }

  attend(): () => void {
    return this.parts.services.attendance.attend();
  }

  profile(): ReturnType<View["profile"]> {
    const { loaded } = this.resolved;
    return { name: loaded.name, files: loaded.files, text: renderProfile(loaded, true, this.parts.userHome) };
  }

  logs(filter: Parameters<View["logs"]>[0]): ReturnType<View["logs"]> {
    const { profile, paths } = this.resolved;
    return readLogTail(logFileOptions(profile.logging, paths.logs).file, filter);
  }

  metrics(): ReturnType<View["metrics"]> {
    return this.prometheus.render();
  }

  exposed(): boolean {
    return !isLoopback(this.resolved.profile.api.host);
  }

  allowedHosts(): readonly string[] {
    return this.resolved.profile.api.allowed_hosts;
  }

  corsOrigins(): readonly string[] {
    return this.resolved.profile.api.cors_origins;
  }

  maxBodyBytes(): number {
    return this.resolved.profile.api.max_body_kb * 1024;
  }

  requestSeen(): void {
    this.parts.services.usage?.request(Date.now());
  }
}
