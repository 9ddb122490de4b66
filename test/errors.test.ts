import { describe, expect, test } from "bun:test";
import { EdgetrainError, ERROR_CODES, ExitCode, isErrorCode } from "../runtime/errors.ts";

describe("error codes", () => {
  test("the codes added for cancelled, paused too long and not loadable have their own status and exit code", () => {
    const table = (["cancelled", "paused_too_long", "model_not_loadable", "run_failed", "data_invalid"] as const).map((code) => {
      const error = new EdgetrainError(code, "x");
      return [code, error.httpStatus, error.exitCode];
    });
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
});
