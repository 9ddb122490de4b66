import { Box, Text, useApp, useStdout } from "ink";
import { useEffect, useState } from "react";
import type { RunDetail } from "../runtime/api/contract.ts";
import { ConflictModal, conflictModalHeight } from "./components/conflict-modal.tsx";
import { FilterLine } from "./components/filter-line.tsx";
import { ColorContext, useColor } from "./components/theme.tsx";
import { type Connection, currentUrl } from "./connection.ts";
import { isListScreen, type ListScreen, matching } from "./list-filter.ts";
import { Jobs } from "./screens/jobs.tsx";
import { LOG_LEVELS, Logs } from "./screens/logs.tsx";
import { Models, type ModelsView } from "./screens/models.tsx";
import { Overview } from "./screens/overview.tsx";
import { ProfileScreen } from "./screens/profile.tsx";
import { Runs } from "./screens/runs.tsx";
import { useConflictAnswer } from "./use-conflict-answer.ts";
import { useDaemon } from "./use-daemon.ts";
import { useKeys } from "./use-keys.ts";
import { useListFilter } from "./use-list-filter.ts";

const SCREENS = ["Overview", "Runs", "Models", "Jobs", "Logs", "Profile"] as const;
type Screen = (typeof SCREENS)[number];

const HELP = [
  "1–6 or Tab: switch screens (Overview, Runs, Models, Jobs, Logs, Profile)",
  "↑↓ or k j: select · Enter: open · Esc: back",
  "/: filter Runs, Models or Jobs by name (Enter keeps it, Esc clears it)",
  "Runs: Enter shows progress, checkpoints, metrics and the live log tail",
  "Models: Enter lists versions · a activate the selected version · r roll back (both ask y/n)",
  "Jobs: n run the selected job now",
  "Logs: l cycle the level filter · j cycle the job filter",
  "Conflict prompt: w wait · s skip · f force every key waiting · [ ] pick one key, Esc all (default when unanswered)",
  "q quit (the daemon keeps running) · ? close this help",
];

export interface AppProps {
  connection: Connection;
  color: boolean;
  refreshMs?: number;
}

export function App(props: AppProps) {
  return (
    <ColorContext.Provider value={props.color}>
      <Dashboard {...props} />
    </ColorContext.Provider>
  );
}

function Dashboard({ connection, refreshMs }: AppProps) {
  const { exit } = useApp();
  const { stdout: stream } = useStdout();
  // Ink hands over the stream it draws on: a terminal (or ink-testing-library's stand-in) with columns and rows.
  const stdout = stream as NodeJS.WriteStream;
  const color = useColor();
  const { snapshot, daemon } = useDaemon(connection, refreshMs);
  const { api, answer } = daemon;
  const [size, setSize] = useState({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
  const [screen, setScreen] = useState<Screen>("Overview");
  const [help, setHelp] = useState(false);
  const [runIndex, setRunIndex] = useState(0);
  const [runDetail, setRunDetail] = useState<RunDetail>();
  const [models, setModels] = useState<ModelsView>({ selected: 0, version: 0 });
  const [jobIndex, setJobIndex] = useState(0);
  const [message, setMessage] = useState<string>();
  const [logLevel, setLogLevel] = useState<(typeof LOG_LEVELS)[number]>("info");
  const [logJob, setLogJob] = useState<string>();
  const [profileOffset, setProfileOffset] = useState(0);

  // Resizing redraws at the new size.
  useEffect(() => {
    const onResize = () => setSize({ columns: stdout.columns || 80, rows: stdout.rows || 24 });
    stdout.on("resize", onResize);
    return () => void stdout.off("resize", onResize);
  }, [stdout]);
  // The countdown and the ages tick with the poll's redraw, once a second.
  const now = Date.now();
  // An open run detail follows the run: one timer per run opened (api and answer never change).
  const openRun = runDetail?.id;
  useEffect(() => {
    if (openRun === undefined) return;
    const timer = setInterval(() => void answer(api.v1.runs({ id: openRun }).get()).then(setRunDetail, () => {}), 1000);
    return () => clearInterval(timer);
  }, [openRun, api, answer]);

  const selectFirst = (list: ListScreen) =>
    list === "Runs" ? setRunIndex(0) : list === "Models" ? setModels((m) => ({ ...m, selected: 0 })) : setJobIndex(0);
  const { filter, textOf, handle: filterKey } = useListFilter(selectFirst);
  // The list screens show, and select from, the rows the filter leaves.
  const shown = {
    ...snapshot,
    runs: matching(snapshot.runs, filter.text.Runs, (run) => `${run.job}/${run.key ?? ""} ${run.status}`),
    models: matching(snapshot.models, filter.text.Models, (model) => model.model),
    jobs: matching(snapshot.jobs, filter.text.Jobs, (job) => job.name),
  };
  const listFilter = textOf(screen);
  const act = (work: Promise<unknown>, done: string) =>
    work.then(
      () => setMessage(done),
      (error: Error) => setMessage(error.message),
    );
  const { conflict, selected, sending, handle: conflictKey } = useConflictAnswer(snapshot.conflicts, daemon, act);
  const openModel = (name: string) =>
    answer(api.v1.models({ name }).get()).then(
      (detail) => setModels((m) => ({ ...m, detail, version: 0 })),
      (error: Error) => setMessage(error.message),
    );

  useKeys((input, key) => {
    // Typing a filter comes first: its letters must not answer a conflict or switch screens.
    const onList = !(screen === "Runs" && runDetail) && !(screen === "Models" && models.detail);
    if (filterKey(screen, input, key, onList && !models.confirm && !help)) return;
    if (conflictKey(input, key)) return;
    if (models.confirm) {
      if (input === "y") {
        const { action, model, version } = models.confirm;
        void act(
          action === "activate"
            ? answer(api.v1.models({ name: model }).activate.post({ version: version! }))
            : answer(api.v1.models({ name: model }).rollback.post()),
          action === "activate" ? `${model}: version ${version} serving` : `${model}: rolled back`,
        ).then(() => openModel(model));
      }
      if (input === "y" || input === "n" || key.escape) setModels((m) => ({ ...m, confirm: undefined }));
      return;
    }
    if (input === "q") return exit();
    if (input === "?") return setHelp((shown) => !shown);
    if (help && key.escape) return setHelp(false);
    if (/^[1-6]$/.test(input)) return setScreen(SCREENS[Number(input) - 1]!);
    if (key.tab)
      return setScreen(SCREENS[(SCREENS.indexOf(screen) + (key.shift ? SCREENS.length - 1 : 1)) % SCREENS.length]!);
    const step = key.upArrow || input === "k" ? -1 : key.downArrow || (input === "j" && screen !== "Logs") ? 1 : 0;
    if (screen === "Runs") {
      if (runDetail && key.escape) return setRunDetail(undefined);
      if (step) setRunIndex((i) => Math.max(0, Math.min(shown.runs.length - 1, i + step)));
      if (key.return && shown.runs[runIndex])
        void answer(api.v1.runs({ id: shown.runs[runIndex]!.id }).get()).then(setRunDetail, (error: Error) =>
          setMessage(error.message),
        );
    } else if (screen === "Models") {
      if (models.detail) {
        if (key.escape) return setModels((m) => ({ ...m, detail: undefined }));
        if (step)
          setModels((m) => ({
            ...m,
            version: Math.max(0, Math.min((m.detail?.versions.length ?? 1) - 1, m.version + step)),
          }));
        const version = models.detail.versions[models.version];
        if (input === "a" && version)
          setModels((m) => ({
            ...m,
            confirm: { action: "activate", model: m.detail!.model, version: version.version },
          }));
        if (input === "r") setModels((m) => ({ ...m, confirm: { action: "rollback", model: m.detail!.model } }));
      } else {
        if (step)
          setModels((m) => ({ ...m, selected: Math.max(0, Math.min(shown.models.length - 1, m.selected + step)) }));
        const model = shown.models[models.selected];
        if (key.return && model) void openModel(model.model);
        if (input === "r" && model) setModels((m) => ({ ...m, confirm: { action: "rollback", model: model.model } }));
      }
    } else if (screen === "Jobs") {
      if (step) setJobIndex((i) => Math.max(0, Math.min(shown.jobs.length - 1, i + step)));
      const job = shown.jobs[jobIndex];
      if (input === "n" && job)
        void answer(api.v1.jobs({ name: job.name }).run.post({})).then(
          (taken) =>
            setMessage(taken.queued ? `job ${job.name} queued` : (taken.reason ?? `job ${job.name} not queued`)),
          (error: Error) => setMessage(error.message),
        );
    } else if (screen === "Logs") {
      if (input === "l") setLogLevel((level) => LOG_LEVELS[(LOG_LEVELS.indexOf(level) + 1) % LOG_LEVELS.length]!);
      if (input === "j") {
        const jobs = [undefined, ...snapshot.jobs.map((j) => j.name)];
        setLogJob((current) => jobs[(jobs.indexOf(current) + 1) % jobs.length]);
      }
    } else if (screen === "Profile") {
      if (step) setProfileOffset((offset) => Math.max(0, offset + step));
      if (key.pageDown) setProfileOffset((offset) => offset + size.rows - 4);
      if (key.pageUp) setProfileOffset((offset) => Math.max(0, offset - size.rows + 4));
    }
  });

  const filterShown = isListScreen(screen) && (filter.editing || listFilter !== "") && !help;
  const body = size.rows - 4 - (filterShown ? 1 : 0);
  const status = snapshot.status;
  return (
    <Box flexDirection="column" width={size.columns}>
      <Box justifyContent="space-between">
        <Text bold wrap="truncate">
          edgetrain {status?.version ?? ""} ·{" "}
          {status
            ? `${status.device.name} (${status.device.kind}) · profile ${status.profile.name}`
            : (currentUrl(connection) ?? connection.url)}
        </Text>
        <Text color={color(snapshot.link === "live" ? "green" : "yellow")}>
          {snapshot.link === "live" ? "● live" : snapshot.link === "connecting" ? "connecting…" : "reconnecting…"}
        </Text>
      </Box>
      <Text wrap="truncate">
        {SCREENS.map((name, i) => (
          <Text key={name} inverse={name === screen}>
            {` ${i + 1} ${name} `}
          </Text>
        ))}
      </Text>
      <Box flexDirection="column" height={size.rows - 4}>
        {conflict ? <ConflictModal conflict={conflict} now={now} sending={sending} selected={selected} /> : null}
        {filterShown ? <FilterLine text={listFilter} editing={filter.editing} /> : null}
        {help ? (
          <Box flexDirection="column" borderStyle="round" paddingX={1}>
            {HELP.map((line) => (
              <Text key={line}>{line}</Text>
            ))}
          </Box>
        ) : screen === "Overview" ? (
          <Overview
            snapshot={snapshot}
            width={size.columns}
            height={body - (conflict ? conflictModalHeight(conflict) : 0)}
          />
        ) : screen === "Runs" ? (
          <Runs
            snapshot={shown}
            selected={runIndex}
            detail={runDetail}
            height={body}
            width={size.columns}
            filter={filter.text.Runs}
          />
        ) : screen === "Models" ? (
          <Models snapshot={shown} view={models} height={body} filter={filter.text.Models} />
        ) : screen === "Jobs" ? (
          <Jobs
            snapshot={shown}
            selected={jobIndex}
            message={message}
            width={size.columns}
            height={body}
            filter={filter.text.Jobs}
          />
        ) : screen === "Logs" ? (
          <Logs lines={snapshot.logs} level={logLevel} job={logJob} height={body} width={size.columns} />
        ) : (
          <ProfileScreen snapshot={snapshot} offset={profileOffset} height={body} />
        )}
      </Box>
      <Text dimColor wrap="truncate">
        {snapshot.link !== "live" && snapshot.error
          ? `${snapshot.error} · `
          : message && screen !== "Jobs"
            ? `${message} · `
            : ""}
        1-6/Tab screens · ↑↓ jk Enter Esc · / filter · ? help · q quit
      </Text>
    </Box>
  );
}
