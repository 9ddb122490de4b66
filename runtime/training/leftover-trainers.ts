/**
 * Trainers a run started outlive an edgetrain process killed outright (SIGKILL, the OOM killer): runs record
 * each trainer's process group, and the next start stops what is left of them.
 */
import { messageOf } from "../errors.ts";
import { bootId, type ProcessEntry, processEntry, processMentions, processTable } from "../os/process-identity.ts";
import type { Logger } from "../plugin-api.ts";
import type { StateDatabase } from "../state/database.ts";
import {
  forgetRunProcesses,
  type LeftRunProcess,
  type RunProcess,
  runProcesses,
  saveRunProcess,
} from "../state/run-processes.ts";

/** How long leftover trainers have after SIGTERM before SIGKILL: the command strategy's default grace_period. */
export const LEFTOVER_GRACE_MS = 10_000;
const POLL_MS = 50;

type ProcessTable = Map<number, ProcessEntry>;

/** Records `pid`, which this process started for `run` (nothing when it is gone already). */
export function recordRunProcess(
  state: Pick<StateDatabase, "db" | "writes">,
  run: string,
  worker: unknown,
  pid: number,
): void {
  const started = runProcessOf(run, worker, pid);
  if (started) saveRunProcess(state, started);
}

/** What to record of `pid`, which this process started for `run`; undefined when it is gone already. */
export function runProcessOf(run: string, worker: unknown, pid: number): RunProcess | undefined {
  const started = processEntry(pid);
  const owner = processEntry(process.pid);
  const boot = bootId();
  if (!started || !owner || !boot || pid === process.pid) return undefined;
  return {
    run,
    worker: worker === undefined ? null : String(worker),
    pid,
    pgid: started.group,
    started: started.started,
    boot_id: boot,
    owner_pid: process.pid,
    owner_started: owner.started,
  };
}

/**
 * The live processes of a recorded one: its group while it leads one, else itself alone (a plugin's plain child
 * shares a group with others, ours included), as long as it is the same process.
 */
export function processesLeft(row: RunProcess, table: ProcessTable = processTable()): number[] {
  const leader = table.get(row.pid);
  if (leader && leader.started !== row.started) return [];
  if (row.pgid !== row.pid) return leader ? [row.pid] : [];
  // While any process of group P lives, the kernel gives pid P to no new process: a member that started after
  // the leader is the leader's.
  return [...table.values()].filter((p) => p.group === row.pgid && p.started >= row.started).map((p) => p.pid);
}

interface Leftover {
  row: LeftRunProcess;
  pids: number[];
}

/**
 * The recorded processes to stop: those whose owner is gone, still the same processes. A group whose leader is
 * gone as well counts only while one of its members works in the run's folder or names it in its environment:
 * its pid may have gone to another program's group since.
 */
function leftovers(rows: LeftRunProcess[], table: ProcessTable, boot: string | undefined) {
  const stop: Leftover[] = [];
  const forget: LeftRunProcess[] = [];
  for (const row of rows) {
    const sameBoot = row.boot_id === boot;
    if (sameBoot && table.get(row.owner_pid)?.started === row.owner_started) continue;
    const pids = sameBoot ? processesLeft(row, table) : [];
    const ours = table.has(row.pid) || pids.some((pid) => processMentions(pid, row.run_dir));
    if (pids.length > 0 && ours) stop.push({ row, pids });
    else forget.push(row);
  }
  return { stop, forget };
}

function signal({ row }: Leftover, name: NodeJS.Signals): void {
  try {
    process.kill(row.pgid === row.pid ? -row.pgid : row.pid, name);
  } catch {
    // Gone meanwhile.
  }
}

/** Waits until none of `left` has a process left, or `ms` pass; returns those that still have. */
async function whileLeft(left: Leftover[], ms: number): Promise<Leftover[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const table = processTable();
    const still = left.filter(({ row }) => processesLeft(row, table).length > 0);
    if (still.length === 0 || Date.now() >= deadline) return still;
    await Bun.sleep(POLL_MS);
  }
}

/**
 * Stops the trainers that runs of a gone edgetrain process left running (SIGTERM, then SIGKILL after the
 * grace period), logging run, job and pids, and forgets them. Processes of a live owner (an `edgetrain fit`
 * beside) are left alone; a pid whose start time or boot differs from the record is never signalled.
 */
export async function stopLeftoverTrainers(
  state: Pick<StateDatabase, "db" | "writes">,
  logger: Logger,
  graceMs = LEFTOVER_GRACE_MS,
): Promise<void> {
  let rows: LeftRunProcess[];
  try {
    rows = runProcesses(state.db);
  } catch (error) {
    logger.warn("could not read the trainers of interrupted runs", { error: messageOf(error) });
    return;
  }
  if (rows.length === 0) return;
  const { stop, forget } = leftovers(rows, processTable(), bootId());
  for (const leftover of stop) {
    signal(leftover, "SIGTERM");
    // A trainer stopped by a pause acts on SIGTERM only once it runs again.
    signal(leftover, "SIGCONT");
  }
  const stubborn = await whileLeft(stop, graceMs);
  stubborn.forEach((leftover) => signal(leftover, "SIGKILL"));
  await whileLeft(stubborn, 1000);
  for (const run of new Set(stop.map(({ row }) => row.run))) {
    const stopped = stop.filter(({ row }) => row.run === run);
    const { job, key } = stopped[0]!.row;
    logger.warn("stopped the trainers an interrupted run left", {
      run,
      job,
      ...(key !== null ? { key } : {}),
      workers: stopped.map(({ row }) => row.worker),
      pids: stopped.flatMap(({ pids }) => pids),
      signal: stopped.some((leftover) => stubborn.includes(leftover)) ? `SIGKILL after ${graceMs / 1000} s` : "SIGTERM",
    });
  }
  for (const run of new Set([...stop.map(({ row }) => row.run), ...forget.map((row) => row.run)])) {
    const pids = [...stop.map(({ row }) => row), ...forget].filter((row) => row.run === run).map((row) => row.pid);
    forgetRunProcesses(state, run, pids);
  }
}
