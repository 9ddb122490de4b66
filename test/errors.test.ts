import { describe, expect, test } from "bun:test";
import { daemonError } from "../runtime/cli/daemon-client.ts";
import { EdgetrainError, ERROR_CODES, ExitCode, isErrorCode, notFound, suggestionHint } from "../runtime/errors.ts";

describe("error codes", () => {
  test("the codes added for cancelled, paused too long and not loadable have their own status and exit code", () => {
    const table = (["cancelled", "paused_too_long", "model_not_loadable", "run_failed", "data_invalid"] as const).map(
      (code) => {
        const error = new EdgetrainError(code, "x");
        return [code, error.httpStatus, error.exitCode];
      },
    );
    expect(table).toEqual([
      ["cancelled", 409, ExitCode.problems],
      ["paused_too_long", 503, ExitCode.refused],
      ["model_not_loadable", 422, ExitCode.problems],
      ["run_failed", 500, ExitCode.problems],
      ["data_invalid", 400, ExitCode.problems],
    ]);
  });

  test("every code is known to clients and says what it means", () => {
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      expect(isErrorCode(code)).toBe(true);
      expect(spec.means.length).toBeGreaterThan(5);
    }
    expect(isErrorCode("no_such_code")).toBe(false);
  });

  test("the CLI rethrows the daemon's new codes as they are, with their own exit codes", () => {
    const rethrown = (["cancelled", "paused_too_long", "model_not_loadable"] as const).map((code) => {
      const error = daemonError(new EdgetrainError(code, "x").httpStatus, { code, message: "x", reason: "person" });
      return [error.code, error.exitCode, error.details.reason];
    });
    expect(rethrown).toEqual([
      ["cancelled", ExitCode.problems, "person"],
      ["paused_too_long", ExitCode.refused, "person"],
      ["model_not_loadable", ExitCode.problems, "person"],
    ]);
  });
});

describe("notFound", () => {
  test("suggests the closest known name once, and nothing for a far one", () => {
    const close = notFound("model", "activity-player7", ["activity-player_7", "other"]);
    expect(close).toMatchObject({
      code: "not_found",
      message: 'no model "activity-player7" (did you mean "activity-player_7"?)',
      details: { model: "activity-player7" },
    });
    expect(close.httpStatus).toBe(404);
    expect(notFound("model", "zzzzzzzz", ["activity-player_7"]).message).toBe('no model "zzzzzzzz"');
  });

  test("words the suggestion and the code as the caller asks", () => {
    const option = notFound("option", "jsn", ["json", "help"], {
      code: "usage",
      message: 'unknown option "--jsn"',
      shown: (long) => `--${long}`,
      after: "; see --help",
    });
    expect([option.code, option.message, option.exitCode]).toEqual([
      "usage",
      'unknown option "--jsn" (did you mean "--json"?); see --help',
      ExitCode.usage,
    ]);
    expect(suggestionHint("manul", ["manual", "cron"], "known triggers: cron, manual")).toBe(
      'did you mean "manual"? known triggers: cron, manual',
    );
    expect(suggestionHint("zzzzzz", ["manual"])).toBe("");
  });
});
