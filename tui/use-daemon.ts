import { useEffect, useRef, useState } from "react";
import type {
  Conflict,
  DaemonStatus,
  JobSummary,
  LogLine,
  ModelSummary,
  OffPeak,
  ProfileText,
  ResourceHistory,
  RunSummary,
} from "../runtime/api/contract.ts";
import { type Connection, daemonClient, EventFeed, type LinkState } from "./connection.ts";

export interface Reading {
  at: number;
  /** Absent: unknown (/proc could not give it), never 0. */
  cpu?: number;
  memory?: number;
  gpu?: number;
  temperature?: number;
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
  jobs: JobSummary[];
  offpeak?: OffPeak;
  conflicts: Conflict[];
  readings: Reading[];
  /** The last hour, averaged by the daemon: there from the first draw, however recently the TUI started. */
  history?: ResourceHistory;
  logs: LogLine[];
  progress: Record<string, RunProgress>;
  heartbeats: Record<string, number>;
  profile?: ProfileText;
}

const HISTORY = 240;
const LOG_LINES = 500;

/**
 * Everything the screens show, kept fresh: the event stream for readings, progress, conflicts and log
 * lines as they happen, and a poll of the status, runs, models and jobs every `refreshMs`.
 */
export function useDaemon(connection: Connection, refreshMs = 1000) {
  const daemon = useRef(daemonClient(connection)).current;
  const { api, answer } = daemon;
  const [snapshot, setSnapshot] = useState<DaemonSnapshot>({
    link: "connecting",
    runs: [],
    models: [],
    jobs: [],
    conflicts: [],
    readings: [],
    logs: [],
    progress: {},
    heartbeats: {},
  });
  const update = (change: (previous: DaemonSnapshot) => Partial<DaemonSnapshot>) =>
    setSnapshot((previous) => ({ ...previous, ...change(previous) }));

  // The stream and the poll start again only for another daemon (address or token): a caller may pass an equal
  // connection anew on each render, and the client, `update` and `setSnapshot` act the same from any render.
  // biome-ignore lint/correctness/useExhaustiveDependencies: restarting on each render would drop the stream.
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
    const refreshHistory = () => answer(api.v1.history.get()).then((history) => update(() => ({ history })), fail);
    const refreshConflicts = () =>
      answer(api.v1.conflicts.get()).then(({ conflicts }) => update(() => ({ conflicts })), fail);
    const poll = async () => {
      try {
        // Runs, models and jobs change with events; without any they are fetched every fifth tick.
        const lists = listsStale || tick % 5 === 0;
        // A step of the history is 30 s long: a fresh copy every 10 ticks is plenty.
        if (tick++ % 10 === 9) void refreshHistory();
        listsStale = false;
        const [status, runs, models, jobs] = await Promise.all([
          answer(api.v1.status.get()),
          lists ? answer(api.v1.runs.get({ query: { limit: 50 } })) : undefined,
          lists ? answer(api.v1.models.get()) : undefined,
          lists ? answer(api.v1.jobs.get()) : undefined,
        ]);
        if (stopped) return;
        update(() => ({
          ...gathered(),
          status,
          ...(runs ? { runs: runs.runs } : {}),
          ...(models ? { models: models.models } : {}),
          ...(jobs ? { jobs: jobs.jobs, offpeak: jobs.offpeak } : {}),
          error: undefined,
        }));
      } catch (error) {
        if (!stopped) fail(error);
      }
    };
    const onConnected = () => {
      listsStale = true;
      void poll();
      void refreshConflicts();
      void refreshHistory();
      answer(api.v1.logs.get({ query: { limit: LOG_LINES } })).then(({ lines }) => {
        logs = lines;
        update(gathered);
      }, fail);
      answer(api.v1.profile.get()).then((profile) => update(() => ({ profile })), fail);
    };
    const feed = new EventFeed(
      connection,
      (event) => {
        if (event.type.startsWith("run.") || event.type.startsWith("model.")) listsStale = true;
        if (event.type === "governor.reading") {
          const { data } = event;
          const reading: Reading = {
            at: Date.now(),
            cpu: data.cpuPercent,
            memory: data.memoryPercent,
            gpu: data.gpuPercent,
            temperature: data.temperatureC,
          };
          readings = [...readings, reading].slice(-HISTORY);
        } else if (event.type === "run.progress") {
          const { data } = event;
          progress[data.run] = { done: data.done, total: data.total, message: data.message, at: Date.now() };
        } else if (event.type === "run.heartbeat") {
          heartbeats[event.data.run] = Date.now();
        } else if (event.type.startsWith("conflict.")) {
          // A question must show at once, not with the next poll.
          void refreshConflicts();
        } else if (event.type === "log") {
          logs = [...logs, event.data].slice(-LOG_LINES);
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

  return { snapshot, daemon };
}
