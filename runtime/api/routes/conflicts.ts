import { Elysia } from "elysia";
import * as v from "valibot";
import { EdgetrainError } from "../../errors.ts";
import type { ConflictList } from "../contract.ts";
import type { DaemonView } from "../daemon-view.ts";
import { operation } from "../openapi-operation.ts";
import { NoQuery } from "./schemas.ts";

/** `GET /v1/conflicts` (open questions) and `POST /v1/conflicts/:id` ({action: wait|skip|force, key?}). */
export const conflictRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/conflicts", tags: ["conflicts"] })
    .get("/v1/conflicts", (): ConflictList => ({ conflicts: view.conflicts() }), {
      detail: operation("Open questions, oldest first", "ConflictList", { access: "token_unless_loopback" }),
    })
    .post(
      "/v1/conflicts/:id",
      ({ params, body }) => {
        const answered = view.answerConflict(params.id, body.action, body.by ?? "api", body.key);
        if (!answered)
          throw new EdgetrainError("not_found", `no open conflict "${params.id}" (answered already, or timed out)`, {
            details: { conflict: params.id },
          });
        return answered;
      },
      {
        query: NoQuery,
        body: v.strictObject({
          action: v.picklist(["wait", "skip", "force"], "wait, skip or force"),
          by: v.optional(v.pipe(v.string(), v.maxLength(100))),
          key: v.optional(
            v.pipe(
              v.string(),
              v.maxLength(200),
              v.description("Answer for this key only; left out: every key waiting."),
            ),
          ),
        }),
        detail: operation("Answer a question for all its keys, or one: wait, skip or force", "Conflict", {
          errors: {
            400: "Not wait, skip or force, or a parameter or field it does not take.",
            404: "No such open question (answered already, or timed out), or a key that does not wait on it.",
          },
        }),
      },
    );
