import { Elysia } from "elysia";
import * as v from "valibot";
import type { FleetModelScores } from "../../../api/fleet-contract.ts";
import { operation } from "../../../api/openapi-operation.ts";
import type { Hub } from "../hub.ts";
import { SCORE_SUMMARIES_KEPT } from "../score-summaries.ts";

const Name = v.pipe(v.string(), v.regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/, "letters, digits, _ . - only"));
const WholeFrom1 = (max: number) =>
  v.pipe(
    v.string(),
    v.regex(/^\d+$/, "a whole number"),
    v.transform(Number),
    v.minValue(1, "a number from 1"),
    v.maxValue(max, `a number up to ${max}`),
  );

/** `GET /v1/fleet/models/:name/scores`: what devices' score runs predicted with a model, for drift detection. */
export const scoreRoutes = (hub: Hub) =>
  new Elysia({ name: "fleet/scores", tags: ["scores"] }).get(
    "/v1/fleet/models/:name/scores",
    ({ params, query }): FleetModelScores =>
      hub.registry.scores.ofModel(params.name, { version: query.version, limit: query.limit ?? 10 }),
    {
      params: v.object({ name: Name }),
      query: v.object({
        version: v.optional(WholeFrom1(Number.MAX_SAFE_INTEGER)),
        limit: v.optional(WholeFrom1(SCORE_SUMMARIES_KEPT)),
      }),
      detail: operation(
        "Each device's latest score summaries of a model, and the fleet's histogram or statistics per version",
        "FleetModelScores",
        {
          access: "token_unless_loopback",
          errors: { 400: "Not a model name, or a version or limit that is not a whole number in range." },
        },
      ),
    },
  );
