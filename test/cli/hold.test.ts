import { describe, expect, test } from "bun:test";
import { runCli, tempDir } from "../helpers.ts";

/** A home whose job keeps away from player-dashboard; replay is a predictor no job lists. */
function homeWithPredictors(dir: { path: string; write(name: string, text: string): string }): string[] {
  dir.write(
    "profile.yaml",
    `paths:\n  home: ${dir.path}\nconflicts:\n  predictors:\n    - name: player-dashboard\n    - name: replay\n` +
      "jobs:\n  activity:\n    strategy: random-forest\n    data: { source: sessions, path: athletes }\n    " +
      "constraints: { not_during: [player-dashboard] }\n",
  );
  return ["--home", dir.path];
}

describe("edgetrain hold", () => {
  test("a name no job keeps away from is warned of, naming the predictors; the command still runs", async () => {
    await using dir = tempDir();
    const home = homeWithPredictors(dir);
    const typo = await runCli(["hold", "player-dashbord", ...home, "--", "echo", "ran"], { home: dir.path });
    expect(typo).toEqual({
      code: 0,
      stdout: "ran\n",
      stderr:
        'warning: no predictor "player-dashbord" in the profile, so no job keeps away from this hold (did you ' +
        'mean "player-dashboard"? predictors: player-dashboard, replay)\n',
    });
    const unlisted = await runCli(["hold", "replay", ...home, "--", "true"], { home: dir.path });
    expect(unlisted.stderr).toBe(
      'warning: no job lists predictor "replay" in constraints.not_during, so no job keeps away from this hold\n',
    );
    const heeded = await runCli(["hold", "player-dashboard", ...home, "--", "true"], { home: dir.path });
    expect(heeded).toEqual({ code: 0, stdout: "", stderr: "" });
  }, 30_000);
});
