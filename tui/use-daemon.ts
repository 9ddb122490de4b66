import { useEffect, useRef, useState } from "react";
import type { DaemonStatus } from "../runtime/api/daemon-view.ts";
import type { OpenConflict } from "../runtime/conflicts/conflict-desk.ts";
import type { LogLine } from "../runtime/log/logger.ts";
import type { RunSummary } from "../runtime/state/runs.ts";
import type { ModelSummary } from "../runtime/store/model-store.ts";
import { DaemonApi, EventFeed, type Connection, type LinkState } from "./connection.ts";

export interface Reading {
  at: number;
  cpu: number;
  memory: number;
  gpu?: number;
  temperature?: number;
}

export interface JobRow {
  name: string;
  strategy: string;
  enabled: boolean;
  priority: number;
  triggers: string[];
  last_run?: RunSummary;
  next?: string;
  why: string;
}

export interface RunProgress {
  done: number;
  total: number;
  message?: string;
  at: number;
}

export interface DaemonSnapshot {
  link: LinkState;
  /** The last API error, in words. */
  error?: string;
  status?: DaemonStatus;
  runs: RunSummary[];
  models: ModelSummary[];
  jobs: JobRow[];
  offpeak?: { windows: string[]; note?: string };
  conflicts: OpenConflict[];
  readings: Reading[];
  logs: LogLine[];
  progress: Record<string, RunProgress>;
  heartbeats: Record<string, number>;
  profile?: { name: string; files: string[]; text: string };
}

const HISTORY = 240;
const LOG_LINES = 500;

/**
 * Everything the screens show, kept fresh: the event stream for readings, progress, conflicts and log
 * lines as they happen, and a poll of the status, runs, models and jobs every `refreshMs`.
 */
export function useDaemon(connection: Connection, refreshMs = 1000) {
  const api = useRef(new DaemonApi(connection)).current;
  const [snapshot, setSnapshot] = useState<DaemonSnapshot>({ link: "connecting", runs: [], models: [], jobs: [], conflicts: [], readings: [], logs: [], progress: {}, heartbeats: {} });
  const update = (change: (previous: DaemonSnapshot) => Partial<DaemonSnapshot>) => setSnapshot((previous) => ({ ...previous, ...change(previous) }));

  useEffect(() => {
    let stopped = false;
    // Events are gathered here and drawn with the next poll: one redraw a second, however busy the stream.
    let readings: Reading[] = [];
    let logs: LogLine[] = [];
    const progress: Record<string, RunProgress> = {};
    const heartbeats: Record<string, number> = {};
    let listsStale = true;
    let tick = 0;
    const gathered = () => ({ readings, logs, progress: { ...progress }, heartbeats: { ...heartbeats } });
    const fail = (error: unknown) => update(() => ({ error: (error as Error).message }));
    const refreshConflicts = () => api.get<{ conflicts: OpenConflict[] }>("/v1/conflicts").then(({ conflicts }) => update(() => ({ conflicts })), fail);
    const poll = async () => {
      try {
        // Runs, models and jobs change with events; without any they are fetched every fifth tick.
        const lists = listsStale || tick++ % 5 === 0;
        listsStale = false;
        const [status, runs, models, jobs] = await Promise.all([
          api.get<DaemonStatus>("/v1/status"),
          lists ? api.get<{ runs: RunSummary[] }>("/v1/runs?limit=50") : undefined,
          lists ? api.get<{ models: ModelSummary[] }>("/v1/models") : undefined,
          lists ? api.get<{ jobs: JobRow[]; offpeak: { windows: string[]; note?: string } }>("/v1/jobs") : undefined,
        ]);
        if (stopped) return;
        update(() => ({ ...gathered(), status, ...(runs ? { runs: runs.runs } : {}), ...(models ? { models: models.models } : {}), ...(jobs ? { jobs: jobs.jobs, offpeak: jobs.offpeak } : {}), error: undefined }));
      } catch (error) {
        if (!stopped) fail(error);
      }
    };
    const onConnected = () => {
      listsStale = true;
      void poll();
      void refreshConflicts();
      api.get<{ lines: LogLine[] }>(`/v1/logs?limit=${LOG_LINES}`).then(({ lines }) => {
        logs = lines;
        update(gathered);
      }, fail);
      api.get<{ name: string; files: string[]; text: string }>("/v1/profile").then((profile) => update(() => ({ profile })), fail);
    };
    const feed = new EventFeed(
      connection,
      (event) => {
        const data = event.data;
        if (event.type.startsWith("run.") || event.type.startsWith("model.")) listsStale = true;
        if (event.type === "governor.reading") {
          const reading: Reading = { at: Date.now(), cpu: Number(data.cpuPercent ?? 0), memory: Number(data.memoryPercent ?? 0), gpu: data.gpuPercent as number | undefined, temperature: data.temperatureC as number | undefined };
          readings = [...readings, reading].slice(-HISTORY);
        } else if (event.type === "run.progress") {
          progress[String(data.run)] = { done: Number(data.done), total: Number(data.total), message: data.message as string | undefined, at: Date.now() };
        } else if (event.type === "run.heartbeat") {
          heartbeats[String(data.run)] = Date.now();
        } else if (event.type.startsWith("conflict.")) {
          // A question must show at once, not with the next poll.
          void refreshConflicts();
        } else if (event.type === "log") {
          logs = [...logs, data as unknown as LogLine].slice(-LOG_LINES);
        }
      },
      (link) => {
        update(() => ({ link }));
        if (link === "live") onConnected();
      },
    );
    feed.start();
    const timer = setInterval(() => void poll(), refreshMs);
    return () => {
      stopped = true;
      feed.stop();
      clearInterval(timer);
    };
  }, [connection.url, connection.token, refreshMs]);

  return { snapshot, api };
}

