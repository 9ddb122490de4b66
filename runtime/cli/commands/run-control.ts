import { EdgetrainError } from "../../errors.ts";
import type { Command } from "../command.ts";
import { askDaemon } from "../daemon-client.ts";
import { homeOptions } from "../home.ts";
import { writeAnswer } from "../json-answer.ts";

/** What each action does to a run, after the sentence all three share. */
const EFFECT = {
  cancel: " A cancelled run stops between trees or epochs; external trainers get SIGTERM, then SIGKILL.",
  pause: " A paused run waits between trees or epochs; external trainers are stopped with SIGSTOP.",
  resume: "",
};

function runAction(action: "cancel" | "pause" | "resume", summary: string): Command {
  return {
    name: action,
    summary,
    description:
      `${summary[0]!.toUpperCase()}${summary.slice(1)} through the daemon that runs on the ` + `home.${EFFECT[action]}`,
    arguments: [{ name: "run", description: "the run's id (edgetrain runs lists them)" }],
    options: { ...homeOptions },
    examples: [`edgetrain ${action} 20260412-031500-a1b2c3`],
    async run(args, io) {
      const [run] = args.positionals;
      if (!run) throw new EdgetrainError("usage", `edgetrain ${action}: name the run (edgetrain runs lists them)`);
      await askDaemon(args, io, (api) =>
        api.v1
          .runs({ id: encodeURIComponent(run) })({ action })
          .post(),
      );
      writeAnswer(
        io,
        args,
        { run, action, accepted: true },
        `${action === "cancel" ? "cancelling" : action === "pause" ? "paused" : "resumed"} run ${run}\n`,
      );
      return 0;
    },
  };
}

export const cancelCommand = runAction("cancel", "cancel a run in progress");
export const pauseCommand = runAction("pause", "pause a run in progress");
export const resumeCommand = runAction("resume", "resume a paused run");
