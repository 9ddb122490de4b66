import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { createApp } from "../../runtime/api/app.ts";
import { connectDaemon } from "../../runtime/cli/daemon-client.ts";
import { EdgetrainError, ExitCode } from "../../runtime/errors.ts";
import { ApiError, daemonClient } from "../../tui/connection.ts";
import { fakeDaemon, TOKEN } from "./fake-daemon.ts";

/** What a failed call threw, for comparing: the class, the code and the words. */
async function failure(pending: Promise<unknown>) {
  const error = await pending.then(
    () => undefined,
    (thrown: unknown) => thrown,
  );
  if (error instanceof EdgetrainError)
    return {
      kind: "EdgetrainError",
      code: error.code,
      exit: error.exitCode,
      message: error.message,
      hint: error.hint,
      details: error.details,
    };
  if (error instanceof ApiError)
    return { kind: "ApiError", code: error.code, message: error.message, hint: error.hint };
  return { kind: String(error) };
}

// One fake daemon on a loopback port; both clients go over the socket as they do for real.
const { view } = fakeDaemon();
const app = createApp(view);
let url = "";
beforeAll(() => {
  app.listen({ hostname: "127.0.0.1", port: 0 });
  url = `http://127.0.0.1:${app.server!.port}`;
});
afterAll(() => app.stop(true));

describe("the CLI's client (Eden, typed by the app)", () => {
  test("answers with the data, typed as the contract says", async () => {
    const { api, answer } = connectDaemon(url, TOKEN);
    const { models } = await answer(api.v1.models.get());
    expect(models.map((m) => [m.model, m.active])).toEqual([["activity-player_1", 2]]);
    expect(
      (await answer(api.v1.models({ name: "activity-player_1" }).activate.post({ version: 1 }))).activated.version,
    ).toBe(1);
    expect(await answer(api.v1.cache.delete(undefined, { query: { model: "activity-player_1" } }))).toEqual({
      cleared: "activity-player_1",
    });
    // Times stay strings, as the contract says; Eden would make Dates of them.
    expect(typeof (await answer(api.v1.status.get())).started_at).toBe("string");
  });

  test(
    "rethrows the daemon's own code, hint and details, so the exit code follows the code and not the " + "status",
    async () => {
      const { api, answer } = connectDaemon(url, TOKEN);
      // A 503 was bad_input (exit 1) when codes were rebuilt from statuses.
      expect(await failure(answer(api.v1.jobs({ name: "busy" }).run.post({})))).toMatchObject({
        kind: "EdgetrainError",
        code: "deferred",
        exit: ExitCode.refused,
        hint: "free space on it",
      });
      expect(await failure(answer(api.v1.predict({ name: "broken" }).post({ inputs: [[1]] })))).toMatchObject({
        code: "model_unavailable",
        exit: ExitCode.problems,
        details: { model: "broken" },
      });
      expect(await failure(answer(api.v1.models({ name: "nope" }).get()))).toMatchObject({
        code: "not_found",
        message: 'no model "nope"',
        hint: "edgetrain models lists them",
        details: { model: "nope" },
      });
      expect(await failure(answer(api.v1.runs({ id: "r9" })({ action: "pause" }).post()))).toMatchObject({
        code: "not_found",
        details: { run: "r9" },
      });
    },
  );

  test("a wrong token is unauthorized (exit 5); a daemon that does not answer says so with a hint", async () => {
    const wrong = connectDaemon(url, "wrong-token-0123456789xxxxx");
    expect(
      await failure(wrong.answer(wrong.api.v1.models({ name: "activity-player_1" }).rollback.post())),
    ).toMatchObject({ code: "unauthorized", exit: ExitCode.refused });
    const gone = connectDaemon("http://127.0.0.1:1", TOKEN);
    expect(await failure(gone.answer(gone.api.v1.status.get()))).toMatchObject({
      code: "not_found",
      message: expect.stringMatching(/^the daemon at http:\/\/127\.0\.0\.1:1 does not answer: /),
      hint: "is it running? (edgetrain run)",
    });
  });
});

describe("the TUI's client (the same Eden client)", () => {
  test("answers with the data, reads the token for each request, and rethrows the daemon's code", async () => {
    let token: string | undefined;
    const { api, answer } = daemonClient({ url, readToken: () => token });
    expect((await answer(api.v1.runs.get({ query: { limit: 5 } }))).runs.map((run) => run.id)).toEqual(["r2"]);
    expect(await failure(answer(api.v1.conflicts({ id: "c1" }).post({ action: "skip", by: "tui" })))).toMatchObject({
      kind: "ApiError",
      code: "unauthorized",
    });
    token = TOKEN;
    expect((await answer(api.v1.conflicts({ id: "c1" }).post({ action: "skip", by: "tui" }))).answer).toBe("skip");
    expect(await failure(answer(api.v1.models({ name: "nope" }).get()))).toEqual({
      kind: "ApiError",
      code: "not_found",
      message: 'no model "nope"',
      hint: "edgetrain models lists them",
    });
    const gone = daemonClient({ url: "http://127.0.0.1:1" });
    expect(await failure(gone.answer(gone.api.v1.status.get()))).toEqual({
      kind: "ApiError",
      code: "not_found",
      message: "the daemon at http://127.0.0.1:1 does not answer",
      hint: undefined,
    });
  });
});
