import { useEffect, useRef, useState } from "react";
import type { DaemonStatus, ModelDetail } from "../runtime/api/daemon-view.ts";
import type { OpenConflict } from "../runtime/conflicts/conflict-desk.ts";
import type { LogLine } from "../runtime/log/logger.ts";
import type { RunDetail, RunSummary } from "../runtime/state/runs.ts";
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
    const fail = (error: unknown) => update(() => ({ error: (error as Error).message }));
    const refreshConflicts = () => api.get<{ conflicts: OpenConflict[] }>("/v1/conflicts").then(({ conflicts }) => update(() => ({ conflicts })), fail);
    const poll = async () => {
      try {
        const [status, runs, models, jobs] = await Promise.all([
          api.get<DaemonStatus>("/v1/status"),
          api.get<{ runs: RunSummary[] }>("/v1/runs?limit=50"),
          api.get<{ models: ModelSummary[] }>("/v1/models"),
          api.get<{ jobs: JobRow[] }>("/v1/jobs"),
        ]);
        if (!stopped) update(() => ({ status, runs: runs.runs, models: models.models, jobs: jobs.jobs, error: undefined }));
      } catch (error) {
        if (!stopped) fail(error);
      }
    };
    const onConnected = () => {
      void poll();
      void refreshConflicts();
      api.get<{ lines: LogLine[] }>(`/v1/logs?limit=${LOG_LINES}`).then(({ lines }) => update(() => ({ logs: lines })), fail);
      api.get<{ name: string; files: string[]; text: string }>("/v1/profile").then((profile) => update(() => ({ profile })), fail);
    };
    const feed = new EventFeed(
      connection,
      (event) => {
        const data = event.data;
        if (event.type === "governor.reading") {
          const reading: Reading = { at: Date.now(), cpu: Number(data.cpuPercent ?? 0), memory: Number(data.memoryPercent ?? 0), gpu: data.gpuPercent as number | undefined, temperature: data.temperatureC as number | undefined };
          update((previous) => ({ readings: [...previous.readings, reading].slice(-HISTORY) }));
        } else if (event.type === "run.progress") {
          update((previous) => ({ progress: { ...previous.progress, [String(data.run)]: { done: Number(data.done), total: Number(data.total), message: data.message as string | undefined, at: Date.now() } } }));
        } else if (event.type === "run.heartbeat") {
          update((previous) => ({ heartbeats: { ...previous.heartbeats, [String(data.run)]: Date.now() } }));
        } else if (event.type.startsWith("conflict.")) {
          void refreshConflicts();
        } else if (event.type === "log") {
          update((previous) => ({ logs: [...previous.logs, data as unknown as LogLine].slice(-LOG_LINES) }));
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

export type { ModelDetail, RunDetail };
