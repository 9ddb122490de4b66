import * as v from "valibot";
import { Count, Text, UnixMs } from "./response-fields.ts";

/** What the conflict routes answer (part of response-schemas.ts). */

const ConflictAnswer = v.picklist(["wait", "skip", "force"]);
export const Conflict = v.object({
  id: Text,
  job: Text,
  key: v.optional(v.pipe(Text, v.description("The first key that asked."))),
  keys: v.pipe(
    v.array(Text),
    v.description("Every key still waiting on the answer, in the order they asked; empty without keys."),
  ),
  key_name: v.optional(v.pipe(Text, v.description("What a key is to the job (its `key` setting): player."))),
  summary: v.pipe(
    Text,
    v.description("The question in a line: `30 players of job activity wait for player-dashboard`."),
  ),
  predictors: v.array(
    v.object({
      name: Text,
      found: v.picklist(["process", "lockfile", "hold", "serving"]),
      pid: v.optional(Count),
      command: v.optional(Text),
      lockfile: v.optional(Text),
      model: v.optional(Text),
    }),
  ),
  asked_at: UnixMs("When the question was asked"),
  deadline: UnixMs("When the default answer applies if nobody answers"),
  default_answer: ConflictAnswer,
  answer: v.optional(ConflictAnswer),
  answered_by: v.optional(Text),
  answers: v.optional(
    v.pipe(
      v.record(Text, v.object({ answer: ConflictAnswer, by: Text })),
      v.description("Keys answered on their own (`POST` with `key`): they no longer wait for the answer to all."),
    ),
  ),
});
export const ConflictList = v.object({ conflicts: v.array(Conflict) });
