import { Elysia } from "elysia";
import * as v from "valibot";
import { EdgetrainError } from "../../errors.ts";
import { runOverrides } from "../../training/run-overrides.ts";
import type { JobList, RunControlled, RunList, RunQueued } from "../contract.ts";
import type { DaemonView } from "../daemon-view.ts";
import { operation } from "../openapi-operation.ts";
import { NoBody, NoQuery, WholeNumberQuery } from "./schemas.ts";

/**
 * `GET /v1/jobs`, `POST /v1/jobs/:name/run` ({key?, ignore_governor?, ignore_conflicts?, force?: both}),
 * `GET /v1/runs`, `GET /v1/runs/:id`.
 */
export const jobRoutes = (view: DaemonView) =>
  new Elysia({ name: "routes/jobs", tags: ["jobs"] })
    .get("/v1/jobs", (): JobList => ({ jobs: view.jobs(), offpeak: view.offPeak() }), {
      detail: operation("Jobs, their last run and next chance", "JobList", { access: "token_unless_loopback" }),
    })
    .post(
      "/v1/jobs/:name/run",
      async ({ params, body, set }) => {
        const { force: both, ignore_governor: ignoreGovernor, ignore_conflicts: ignoreConflicts } = body ?? {};
        const overrides = runOverrides({ force: both, ignoreGovernor, ignoreConflicts });
        const answer: RunQueued = await view.requestRun(params.name, body?.key, overrides);
        set.status = answer.queued ? 202 : 200;
        return answer;
      },
      {
        query: NoQuery,
        body: v.optional(
          v.strictObject({
            key: v.optional(v.pipe(v.string(), v.minLength(1, "a key name"))),
            ignore_governor: v.optional(
              v.pipe(v.boolean(), v.description("Neither admitted nor paused by the governor")),
            ),
            ignore_conflicts: v.optional(v.pipe(v.boolean(), v.description("Trains and copies past live predictors"))),
            force: v.optional(v.pipe(v.boolean(), v.description("Both ignore_governor and ignore_conflicts."))),
          }),
        ),
        detail: operation("Queue a run of the job, of all its keys or one", "RunQueued", {
          status: 202,
          alike: { 200: "Nothing queued: each key already queued as asked, or running (queued: false, reason)." },
          errors: {
            400: "A malformed body, or a parameter or field it does not take.",
            404: "No such job, or the job has no such key.",
            409: "already_running: every key the request covers has a run in progress; runs never overlap.",
          },
        }),
      },
    )
    .get("/v1/runs", ({ query }): RunList => ({ runs: view.runs({ job: query.job, limit: query.limit ?? 50 }) }), {
      query: v.object({ job: v.optional(v.string()), limit: v.optional(WholeNumberQuery(1000)) }),
      detail: operation("Runs, newest first", "RunList", {
        access: "token_unless_loopback",
        errors: { 400: "limit is not a whole number from 1 to 1000." },
      }),
    })
    .post(
      "/v1/runs/:id/:action",
      ({ params }) => {
        if (!view.run(params.id))
          throw new EdgetrainError("not_found", `no run "${params.id}"`, { details: { run: params.id } });
        if (!view.controlRun(params.id, params.action))
          throw new EdgetrainError("conflict", `run ${params.id} is not in progress`, {
            details: { run: params.id, action: params.action },
          });
        return { run: params.id, action: params.action, accepted: true } satisfies RunControlled;
      },
      {
        params: v.object({
          id: v.string(),
          action: v.picklist(["cancel", "pause", "resume"], "cancel, pause or resume"),
        }),
        query: NoQuery,
        body: NoBody,
        detail: operation("Cancel, pause or resume a run in progress", "RunControlled", {
          errors: {
            400: "Not cancel, pause or resume, or a parameter or body field it does not take.",
            404: "No such run.",
            409: "The run is not in progress, or (resume) no request paused it.",
          },
        }),
      },
    )
    .get(
      "/v1/runs/:id",
      ({ params }) => {
        const run = view.run(params.id);
        if (!run) throw new EdgetrainError("not_found", `no run "${params.id}"`, { details: { run: params.id } });
        return run;
      },
      {
        detail: operation("One run, with what it left", "RunDetail", {
          access: "token_unless_loopback",
          errors: { 404: "No such run." },
        }),
      },
    );
